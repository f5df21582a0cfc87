"""GAN objectives. The hinge loss is what trains the LCI inpainter against its patch discriminator (sec. 4.2.1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def hinge_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[max(0, 1 − D(real))] + E[max(0, 1 + D(fake))]: the discriminator's side of the hinge loss.

    Scores may be maps (a patch discriminator scores every receptive field); every entry counts.
    """
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def hinge_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """−E[D(fake)]: the generator's side of the hinge loss (ℓ_GAN in L_inp, sec. 4.2.1)."""
    return -fake_scores.mean()
