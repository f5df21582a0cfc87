"""Random similarity warps (scale, rotation, shift) of images, batched via ``affine_grid``.

Used by the single-view ablation (l) of table 6.1, where "synchronized" pairs are one frame
under two different augmentations ("random cropping, scaling, and rotations").
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)


def similarity_warp(images: torch.Tensor, scale: torch.Tensor, angle: torch.Tensor, shift: torch.Tensor):
    """Zoom ``images`` (B×C×H×W) by ``scale``, rotate by ``angle`` (radians), shift by ``shift`` (B×2, in
    units of half the image side), sampling bilinearly with border padding."""
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], -1), torch.stack([sin, cos, shift[:, 1]], -1)], -2).to(
        images.dtype
    )
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def random_similarity(
    images: torch.Tensor,
    generator: torch.Generator | None = None,
    scale_range: tuple[float, float] = (0.85, 1.15),
    max_angle: float = 0.26,
    max_shift: float = 0.12,
) -> torch.Tensor:
    """A random similarity warp per image; parameters uniform in the given ranges."""
    batch = images.shape[0]
    uniform = torch.rand(batch, 4, generator=generator, dtype=torch.float64)
    scale = scale_range[0] + (scale_range[1] - scale_range[0]) * uniform[:, 0]
    angle = max_angle * (2 * uniform[:, 1] - 1)
    shift = max_shift * (2 * uniform[:, 2:] - 1)
    return similarity_warp(images, scale, angle, shift)
