"""Distribution filtering (ch. 7): the discriminator sees clean and noise-filtered real and fake images.

Adding ε ~ p_ε to real and fake samples convolves p_d and p_g with p_ε and so widens their
supports; showing D both the clean and the filtered samples (eq. 7.2 with S = {δ, p_ε}) keeps
p_g = p_d as the unique optimum (Theorem 1) while gradients flow where the clean supports do
not overlap. The unified problem is eq. 7.8:

    min_G min_σ max_D  λΓ + E_x[log D(x) + E_ε log D(x + ε)] + E_z[log(1 − D(G(z))) + E_ε log(1 − D(G(z) + ε))]

Here every GAN objective of table 7.3 replaces the log terms (``GANObjective``), and the noise
model minimises the negative discriminator loss plus λΓ (sec. 7.3.2). ``DistributionFilter``
bundles noise model, batch construction and penalty so any adversarial part of the library
(a GAN, the LCI or damage & repair discriminators) can use it.

Batch constructions (``mode``):
- ``"off"``: the standard GAN, D sees clean images only;
- ``"clean_and_noisy"``: {x_1..x_m, x_1 + ε_1..x_m + ε_m} (sec. 7.2.2, Algorithm 1);
- ``"half_noisy"``: {x_1..x_{m/2}, x_{m/2+1} + ε_1..x_m + ε_{m/2}}, the faster alternative of sec. 7.2.2;
- ``"noisy_only"``: x + ε only, the baselines (a)–(c) of table 7.1.
Real and fake batches always go through D separately, so batch normalisation in D normalises
them separately (sec. 7.2.3). A discriminator without batch normalisation (SNGAN) cannot see
that the noisy fakes' batch statistics differ from the noisy reals'; ``separate_normalization``
then standardises the noisy real and the noisy fake group each by its own batch statistics
before D, as sec. 7.2.3 prescribes for such models ("separate normalization of the noisy real
and fake examples"). Clean images reach D unchanged, so D still judges their absolute values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch import nn

from transformrec.adversarial.noise_config import FilterMode, PenaltyReduction
from transformrec.adversarial.objectives import GANObjective, gradient_penalty

FILTER_MODES: tuple[str, ...] = ("off", "clean_and_noisy", "half_noisy", "noisy_only")


def _standard_normal(shape, like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """N(0, I) draws on ``like``'s device, from ``generator`` wherever that generator lives."""
    device = like.device if generator is None else generator.device
    return torch.randn(shape, generator=generator, device=device, dtype=like.dtype).to(like.device)


class GaussianNoise(nn.Module):
    """ε ~ N(0, σ²I) with fixed or learned σ (sec. 7.2.1, case 1; table 7.1 (a), (d), (e)), Γ(σ) = σ².

    ``anneal_steps`` > 0 decays σ linearly to 0 over that many ``step()`` calls: the annealed
    instance-noise baseline of table 7.1 (c) [34, 209].
    """

    def __init__(self, sigma: float = 1.0, learned: bool = False, anneal_steps: int = 0) -> None:
        super().__init__()
        if learned and anneal_steps:
            raise ValueError("a learned σ cannot also be annealed")
        value = torch.tensor(float(sigma))
        if learned:
            self.sigma0 = nn.Parameter(value)
        else:
            self.register_buffer("sigma0", value)
        self.anneal_steps = anneal_steps
        self.register_buffer("steps_done", torch.tensor(0))

    @property
    def sigma(self) -> torch.Tensor:
        if not self.anneal_steps:
            return self.sigma0
        return self.sigma0 * max(0.0, 1.0 - int(self.steps_done) / self.anneal_steps)

    def step(self) -> None:
        """Advance the annealing schedule by one generator iteration."""
        self.steps_done += 1

    def sample(
        self, like: torch.Tensor, generator: torch.Generator | None = None, latent: torch.Tensor | None = None
    ) -> torch.Tensor:
        """σ·N(0, I) shaped like ``like``; ``latent`` is accepted for a common signature and not used."""
        return self.sigma * _standard_normal(like.shape, like, generator)

    def penalty(self, noise: torch.Tensor) -> torch.Tensor:
        """Γ(σ) = σ²."""
        return self.sigma.pow(2)


class NetworkNoise(nn.Module):
    """ε = N(w), w ~ N(0, I): the learned noise generator of sec. 7.2.1 (case 2), Γ = E_w |N(w)|².

    ``penalty_reduction``: ``"sum"`` is the text's Γ, the squared Euclidean norm of each noise
    image; ``"mean"`` divides it by the number of pixels × channels, as the authors' code does
    (``MSE(noise, 0)``), so one λ means the same at every image size.
    """

    def __init__(
        self,
        network: nn.Module,
        latent_dim: int,
        resize_to_input: bool = False,
        penalty_reduction: PenaltyReduction = "sum",
    ) -> None:
        super().__init__()
        if penalty_reduction not in ("sum", "mean"):
            raise ValueError(f"penalty_reduction must be 'sum' or 'mean', got {penalty_reduction!r}")
        self.network = network
        self.latent_dim = latent_dim
        self.resize_to_input = resize_to_input
        self.penalty_reduction = penalty_reduction
        """Bilinearly resize N(w) to the images' size: for discriminators whose input side varies
        (the LCI patch side follows the image size), where N(w) has one fixed output size."""

    def step(self) -> None:
        """Nothing to schedule; present so every noise model has the same verbs."""

    def sample(
        self, like: torch.Tensor, generator: torch.Generator | None = None, latent: torch.Tensor | None = None
    ) -> torch.Tensor:
        """N(w) for a batch shaped like ``like``: w is ``latent`` when given (the generator's own z,
        as in the authors' code), else a fresh draw w ~ N(0, I) (the thesis's sec. 7.2.1)."""
        if latent is not None:
            if latent.shape != (like.shape[0], self.latent_dim):
                expected = (like.shape[0], self.latent_dim)
                raise ValueError(f"the noise network takes latents of shape {expected}, got {tuple(latent.shape)}")
            w = latent.detach().to(like.device, like.dtype)
        else:
            w = _standard_normal((like.shape[0], self.latent_dim), like, generator)
        noise = self.network(w)
        if self.resize_to_input and noise.shape[-2:] != like.shape[-2:]:
            noise = F.interpolate(noise, size=tuple(like.shape[-2:]), mode="bilinear", align_corners=False)
        if noise.shape != like.shape:
            raise ValueError(f"noise generator makes {tuple(noise.shape)}, the images are {tuple(like.shape)}")
        return noise

    def penalty(self, noise: torch.Tensor) -> torch.Tensor:
        """Γ = E|N(w)|²: squared Euclidean norm per image (``"sum"``, Algorithm 1's L_ε / m) or its
        per-pixel mean (``"mean"``), averaged over the batch."""
        squared = noise.flatten(1).pow(2)
        return (squared.sum(1) if self.penalty_reduction == "sum" else squared.mean(1)).mean()


def batch_standardize(images: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Per-channel standardisation by the batch's own mean and (biased) variance: BatchNorm without
    affine parameters or running statistics, applied to D's input (sec. 7.2.3)."""
    dims = [d for d in range(images.dim()) if d != 1]
    mean = images.mean(dim=dims, keepdim=True)
    variance = images.var(dim=dims, keepdim=True, unbiased=False)
    return (images - mean) / torch.sqrt(variance + eps)


def _clean_and_noisy_parts(
    images: torch.Tensor, noise: torch.Tensor | None, mode: FilterMode
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """(clean part, noisy part) of one side's batch; D sees them concatenated in this order."""
    if mode == "off":
        return images, None
    if noise is None:
        raise ValueError(f"mode {mode!r} needs noise")
    if mode == "clean_and_noisy":
        return images, images + noise
    if mode == "noisy_only":
        return None, images + noise
    if mode == "half_noisy":
        half = images.shape[0] // 2
        return images[:half], images[half:] + noise[: images.shape[0] - half]
    raise ValueError(f"unknown filter mode {mode!r}; known: {', '.join(FILTER_MODES)}")


def filtered_batch(
    images: torch.Tensor, noise: torch.Tensor | None, mode: FilterMode, normalize: bool = False
) -> torch.Tensor:
    """The batch D sees for one side (real or fake) under ``mode`` (sec. 7.2.2; module docstring).

    ``normalize`` standardises the noisy part by its own batch statistics (sec. 7.2.3, for
    discriminators without batch normalisation); the clean part is left as it is.
    """
    clean, noisy = _clean_and_noisy_parts(images, noise, mode)
    if noisy is not None and normalize:
        noisy = batch_standardize(noisy)
    parts = [part for part in (clean, noisy) if part is not None]
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def _split_terms(
    loss: Callable[..., torch.Tensor], mode: FilterMode, m: int, *scores: torch.Tensor, term_weight: float = 1.0
) -> torch.Tensor:
    """Eq. 7.8 sums a clean and a filtered term, each times ``term_weight`` (1: the sum as eq. 7.8
    reads; 0.5: their mean, as the authors' code); the other modes have a single term. The scores are
    split in halves rather than at m, so a discriminator that judges several images per score (LCI's
    packed D) splits right as long as m is a multiple of its pack."""
    if mode == "clean_and_noisy":  # the clean and the noisy half have m images each, so half the scores
        return term_weight * (
            loss(*(s[: s.shape[0] // 2] for s in scores)) + loss(*(s[s.shape[0] // 2 :] for s in scores))
        )
    return loss(*scores)


def discriminator_loss(
    discriminator: Callable[[torch.Tensor], torch.Tensor],
    objective: GANObjective,
    real: torch.Tensor,
    fake: torch.Tensor,
    noise: torch.Tensor | None,
    mode: FilterMode,
    normalize: bool = False,
    term_weight: float = 1.0,
) -> torch.Tensor:
    """The discriminator's loss of eq. 7.8 (Algorithm 1's −(L_D^r + L_D^f) / m) under ``objective``.

    Real and fake batches pass through D separately (sec. 7.2.3). The same ε_i filters x_i and
    x̃_i, as in Algorithm 1. ``fake`` should be detached by the caller; ``noise`` should not be,
    so the noise model can be trained from the same loss. ``normalize``: see :func:`filtered_batch`;
    ``term_weight``: see :func:`_split_terms`.
    """
    real_batch = filtered_batch(real, noise, mode, normalize)
    fake_batch = filtered_batch(fake, noise, mode, normalize)
    real_scores, fake_scores = discriminator(real_batch), discriminator(fake_batch)
    loss = _split_terms(objective.discriminator, mode, real.shape[0], real_scores, fake_scores, term_weight=term_weight)
    if objective.gradient_penalty_weight:
        loss = loss + objective.gradient_penalty_weight * gradient_penalty(discriminator, real_batch, fake_batch)
    return loss


def generator_loss(
    discriminator: Callable[[torch.Tensor], torch.Tensor],
    objective: GANObjective,
    fake: torch.Tensor,
    noise: torch.Tensor | None,
    mode: FilterMode,
    normalize: bool = False,
    term_weight: float = 1.0,
) -> torch.Tensor:
    """The generator's loss: Algorithm 1's L_G on clean and filtered fakes (ε detached: only G learns here)."""
    noise = None if noise is None else noise.detach()
    scores = discriminator(filtered_batch(fake, noise, mode, normalize))
    return _split_terms(objective.generator, mode, fake.shape[0], scores, term_weight=term_weight)


def _accumulate(params: list[torch.Tensor], grads) -> None:
    """Add ``grads`` into the parameters' ``.grad`` (``None`` entries: no gradient)."""
    for param, grad in zip(params, grads, strict=True):
        if grad is not None:
            param.grad = grad if param.grad is None else param.grad + grad


class DistributionFilter(nn.Module):
    """Noise model + batch construction + penalty weight λ: distribution filtering as one pluggable part.

    ``noise=None`` (or ``mode="off"``) is the standard GAN. Per discriminator update:
    ``d_loss, penalty = filter.discriminator_losses(D, objective, real, fake)``; D minimises
    ``d_loss`` and the noise model minimises ``−d_loss + penalty`` (Algorithm 1's ω update,
    −(L_D^r + L_D^f) + λL_ε). ``filter.backward(d_loss, penalty, D.parameters())`` fills both
    players' gradients with one backward pass through D. ``penalty`` is None when nothing is learned.
    """

    def __init__(
        self,
        noise: nn.Module | None = None,
        mode: FilterMode = "clean_and_noisy",
        penalty: float = 1.0,
        separate_normalization: bool = False,
        term_weight: float = 1.0,
    ):
        super().__init__()
        if term_weight <= 0:
            raise ValueError(f"term_weight must be > 0, got {term_weight}")
        if mode not in FILTER_MODES:
            raise ValueError(f"unknown filter mode {mode!r}; known: {', '.join(FILTER_MODES)}")
        if mode != "off" and noise is None:
            raise ValueError(f"mode {mode!r} needs a noise model")
        self.noise = noise if mode != "off" else None
        self.mode: FilterMode = mode if noise is not None else "off"
        self.penalty = penalty
        self.separate_normalization = separate_normalization
        self.term_weight = term_weight
        """Weight of each of the clean and the noisy term (1: eq. 7.8's sum; 0.5: the authors' mean)."""
        self.generator: torch.Generator | None = None
        """Draws ε when set (a learned transform's own generator, for exact replay); else torch's global one."""
        self.last_noise_rms: float | None = None
        """Root mean square of the ε of the last discriminator update: how loud the filter is (logged)."""
        self._learned_noise: torch.Tensor | None = None  # the ε of the last losses, for a one-pass backward

    @property
    def learns_noise(self) -> bool:
        return self.noise is not None and any(p.requires_grad for p in self.noise.parameters())

    def sample_noise(self, like: torch.Tensor, latent: torch.Tensor | None = None) -> torch.Tensor | None:
        """ε for the noisy part of a batch shaped like ``like``; ``latent``: see :meth:`NetworkNoise.sample`."""
        return None if self.noise is None else self.noise.sample(like, self.generator, latent)

    def _noisy_latent(self, latent: torch.Tensor | None, m: int) -> torch.Tensor | None:
        """The z of the fakes that get noise: all m, or the last m − m/2 of the half-noisy batch."""
        return None if latent is None else latent[m - self._noisy_count(m) :]

    def step(self) -> None:
        """Advance the noise schedule (annealing) by one generator iteration."""
        if self.noise is not None:
            self.noise.step()

    def discriminator_losses(
        self,
        discriminator: Callable[[torch.Tensor], torch.Tensor],
        objective: GANObjective,
        real: torch.Tensor,
        fake: torch.Tensor,
        latent: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(discriminator loss of eq. 7.8, noise penalty λΓ or None) for one mini-batch.

        ``latent``: the z that made ``fake``, to feed a noise network G's own z (the same ε then
        filters x_i and G(z_i)); None draws the noise network's own w.
        """
        m = real.shape[0]
        noise = self.sample_noise(real[: self._noisy_count(m)], self._noisy_latent(latent, m))
        if noise is not None:
            self.last_noise_rms = float(noise.detach().pow(2).mean().sqrt())
        d_loss = discriminator_loss(
            discriminator,
            objective,
            real,
            fake.detach(),
            noise,
            self.mode,
            self.separate_normalization,
            self.term_weight,
        )
        if not self.learns_noise:
            return d_loss, None
        self._learned_noise = noise
        return d_loss, self.penalty * self.noise.penalty(noise)

    def _noisy_count(self, m: int) -> int:
        """How many ε one side needs: m, or m − m/2 for the half-noisy batch (sec. 7.2.2), so N(w) runs no more."""
        return m - m // 2 if self.mode == "half_noisy" else m

    def backward(
        self, d_loss: torch.Tensor, penalty: torch.Tensor | None, discriminator_params: Iterable[torch.Tensor]
    ) -> None:
        """Gradients of D (∇d_loss) and of the noise model (−∇d_loss + ∇λΓ) from one pass through D.

        Why: the noise model's loss is the negative of D's (sec. 7.3.2), so one backward of
        ``d_loss`` serves both players once the noise gradients are negated; a second backward
        through D would cost as much as D's own. The pass through D stops at ε; the noise model is
        then reached once, through the surrogate ``λΓ − ⟨∂d_loss/∂ε, ε⟩`` whose gradient is
        ``−∇d_loss + ∇λΓ``. Gradients accumulate into ``.grad`` like ``backward``.
        """
        params = list(discriminator_params)
        if penalty is None:
            d_loss.backward(inputs=params)
            return
        noise_params = [p for p in self.noise.parameters() if p.requires_grad]
        noise, self._learned_noise = self._learned_noise, None
        if noise is None:  # losses not made by discriminator_losses: differentiate into the noise model twice
            grads = torch.autograd.grad(d_loss, params + noise_params, retain_graph=True, allow_unused=True)
            _accumulate(params, grads[: len(params)])
            _accumulate(noise_params, [None if g is None else -g for g in grads[len(params) :]])
            penalty.backward(inputs=noise_params)
            return
        *d_grads, d_noise = torch.autograd.grad(d_loss, [*params, noise], allow_unused=True)
        _accumulate(params, d_grads)
        surrogate = penalty if d_noise is None else penalty - (noise * d_noise).sum()
        surrogate.backward(inputs=noise_params)

    def update_discriminator(
        self,
        d_loss: torch.Tensor,
        penalty: torch.Tensor | None,
        discriminator: nn.Module,
        d_optimizer: torch.optim.Optimizer,
        noise_optimizer: torch.optim.Optimizer | None = None,
        reduce_gradients: Callable[[list[torch.Tensor]], None] | None = None,
    ) -> None:
        """One optimiser step of D and, when a noise model is learned, of the noise model (Algorithm 1).

        Both gradients come from :meth:`backward`. ``reduce_gradients`` (e.g. averaging across
        torchrun ranks) sees every gradient before the steps. Gradients are cleared before and
        after, so no other loss leaks into these players' steps.
        """
        params = [p for p in discriminator.parameters() if p.requires_grad]
        noise_params = [p for p in self.parameters() if p.requires_grad] if penalty is not None else []
        if penalty is not None and noise_optimizer is None:
            raise ValueError("a learned noise model needs a noise_optimizer")
        for param in params + noise_params:
            param.grad = None
        self.backward(d_loss, penalty, params)
        if reduce_gradients is not None:
            reduce_gradients(params + noise_params)
        d_optimizer.step()
        d_optimizer.zero_grad(set_to_none=True)
        if penalty is not None:
            noise_optimizer.step()
            noise_optimizer.zero_grad(set_to_none=True)

    def generator_loss(
        self,
        discriminator: Callable[[torch.Tensor], torch.Tensor],
        objective: GANObjective,
        fake: torch.Tensor,
        latent: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Algorithm 1's generator step with fresh ε (from ``latent``, the fakes' z, when given)."""
        m = fake.shape[0]
        with torch.no_grad():
            noise = self.sample_noise(fake[: self._noisy_count(m)], self._noisy_latent(latent, m))
        return generator_loss(
            discriminator, objective, fake, noise, self.mode, self.separate_normalization, self.term_weight
        )
