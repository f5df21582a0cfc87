"""Damaging an encoded feature φ(x): the drop mask Ω and the masked feature φ̂(x) of sec. 3.3.1.

At each of the M×N spatial positions of φ(x) ∈ R^{M×N×L} all L channels are dropped with
probability θ (Ω_ij = 0) and replaced by the entries of a feature average u * φ(x), computed with
a large uniform kernel u, or by random noise (the alternative the thesis found equivalent):

    φ̂(x) = Ω ⊙ φ(x) + (1 − Ω) ⊙ (u * φ(x))

The mask is replicated along the channels and upsampled with nearest neighbours to the
resolution of each decoder layer for the gating of the repair blocks (eq. 3.2).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

FILLS = ("average", "noise")


def sample_keep_mask(
    batch: int, height: int, width: int, drop_rate: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Ω ∈ {0, 1}^{B×1×M×N}: 1 = entry preserved, 0 = dropped, each dropped independently with prob. θ."""
    if not 0.0 <= drop_rate <= 1.0:
        raise ValueError(f"drop_rate must lie in [0, 1], got {drop_rate}")
    return (torch.rand((batch, 1, height, width), generator=generator) >= drop_rate).float()


def uniform_average(features: torch.Tensor, kernel: int) -> torch.Tensor:
    """u * φ: the mean of each channel over a ``kernel``×``kernel`` window centred on every entry.

    Windows are clipped at the border (the mean is over the entries inside the grid), so the
    average never mixes in zero padding. ``kernel`` must be odd so that the window is centred.
    """
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"the uniform kernel must have an odd side >= 1, got {kernel}")
    return F.avg_pool2d(features, kernel, stride=1, padding=kernel // 2, count_include_pad=False)


def matched_noise(features: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Gaussian noise with each sample's per-channel mean and standard deviation of ``features``."""
    mean = features.mean(dim=(2, 3), keepdim=True)
    std = features.std(dim=(2, 3), keepdim=True, unbiased=False)
    noise = torch.randn(features.shape, generator=generator).to(features.device, features.dtype)
    return mean + std * noise


def damage_features(
    features: torch.Tensor,
    keep: torch.Tensor,
    fill: str = "average",
    kernel: int = 5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """φ̂(x) = Ω ⊙ φ(x) + (1 − Ω) ⊙ fill, with fill = u * φ(x) (sec. 3.3.1) or matched noise.

    ``keep`` is Ω with shape ``B×1×M×N`` (broadcast over the L channels).
    """
    if fill == "average":
        replacement = uniform_average(features, kernel)
    elif fill == "noise":
        replacement = matched_noise(features, generator)
    else:
        raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")
    keep = keep.to(features.device, features.dtype)
    return keep * features + (1 - keep) * replacement


def upsample_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """U(Ω): nearest-neighbour upsampling of a ``B×1×M×N`` mask to ``size`` (eq. 3.2)."""
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    return F.interpolate(mask, size=size, mode="nearest")
