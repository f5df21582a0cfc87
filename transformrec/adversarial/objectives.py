"""GAN objectives (table 7.3): minimax, non-saturating (DCGAN), hinge, least squares and WGAN-GP.

The hinge loss is also what trains the LCI inpainter against its patch discriminator (sec. 4.2.1).
Every loss takes the discriminator's raw scores (logits); the sigmoid of the thesis' D(x) in
eq. 7.1 is folded into the losses with ``softplus`` so that saturated scores stay finite.
``gan_objective(name)`` returns the discriminator and generator losses of one objective, so a
trainer (or the distribution-filtering loss of eq. 7.8) never branches on the name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias

from transformrec.registry import Registry


def hinge_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[max(0, 1 − D(real))] + E[max(0, 1 + D(fake))]: the discriminator's side of the hinge loss.

    Scores may be maps (a patch discriminator scores every receptive field); every entry counts.
    """
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def hinge_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """−E[D(fake)]: the generator's side of the hinge loss (ℓ_GAN in L_inp, sec. 4.2.1)."""
    return -fake_scores.mean()


def minimax_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """−E[log σ(D(x))] − E[log(1 − σ(D(G(z))))]: eq. 7.1 negated, so the discriminator minimises it.

    Shared by the minimax (MMGAN) and non-saturating (DCGAN) objectives: they differ only in G.
    """
    return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()


def minimax_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """E[log(1 − σ(D(G(z))))]: the generator's side of eq. 7.1, which saturates when D wins (table 7.3, MMGAN)."""
    return -F.softplus(fake_scores).mean()


def non_saturating_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """−E[log σ(D(G(z)))]: the DCGAN heuristic [25] (Algorithm 1's generator step maximises Σ ln D(x̃))."""
    return F.softplus(-fake_scores).mean()


def least_squares_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """½E[(D(x) − 1)²] + ½E[D(G(z))²]: LSGAN [37] with targets a = 0, b = 1 (table 7.3)."""
    return 0.5 * (real_scores - 1).pow(2).mean() + 0.5 * fake_scores.pow(2).mean()


def least_squares_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """½E[(D(G(z)) − 1)²]: LSGAN's generator target c = 1."""
    return 0.5 * (fake_scores - 1).pow(2).mean()


def wasserstein_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[D(G(z))] − E[D(x)]: the critic of WGAN-GP [36]; add ``gradient_penalty`` to it."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """−E[D(G(z))]: the WGAN generator."""
    return -fake_scores.mean()


def gradient_penalty(
    discriminator: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """E[(‖∇_x̂ D(x̂)‖₂ − 1)²] at x̂ = αx + (1 − α)x̃, α ~ U(0, 1) per sample: WGAN-GP's penalty [36].

    The graph is kept (``create_graph``) so the penalty trains the discriminator; it is also the
    "GAN+GP" regulariser of the robustness comparison (sec. 7.3.3, [42]).
    """
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), generator=generator, device=real.device)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(mixed).sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


@dataclass(frozen=True)
class GANObjective:
    """One GAN objective: the loss each player minimises, and whether the critic needs a gradient penalty."""

    name: str
    discriminator: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    generator: Callable[[torch.Tensor], torch.Tensor]
    gradient_penalty_weight: float = 0.0


OBJECTIVES: Registry = Registry("GAN objective")
for _objective in (
    GANObjective("minimax", minimax_discriminator_loss, minimax_generator_loss),
    GANObjective("non_saturating", minimax_discriminator_loss, non_saturating_generator_loss),
    GANObjective("hinge", hinge_discriminator_loss, hinge_generator_loss),
    GANObjective("least_squares", least_squares_discriminator_loss, least_squares_generator_loss),
    GANObjective("wgan_gp", wasserstein_discriminator_loss, wasserstein_generator_loss, gradient_penalty_weight=10.0),
):
    OBJECTIVES.register(_objective.name)(_objective)


def gan_objective(name: str) -> GANObjective:
    """The objective registered as ``name``; unknown names raise an error listing the known ones."""
    return OBJECTIVES.get(name)


def list_gan_objectives() -> list[str]:
    """Names accepted by ``gan_objective``."""
    return OBJECTIVES.names()
