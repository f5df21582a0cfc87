"""The image transforms of chapter 4 with no learned parts: identity, 90° rotations, random warps."""

from __future__ import annotations

import torch

from transformrec.functional.rotation import rotate90
from transformrec.functional.warp import sample_offsets, warp_images
from transformrec.transforms.base import Transform
from transformrec.transforms.registry import register_transform


@register_transform("identity")
class Identity(Transform):
    """T₀ ∘ x = x (eq. 4.1): the "untransformed" class."""

    def variant_names(self) -> tuple[str, ...]:
        return ("identity",)

    def apply(self, batch, variant, generator=None):
        return batch, {}


@register_transform("rotation")
class Rotation(Transform):
    """T₁…T₃: rotations by 90°, 180° and 270° (sec. 4.2.3), exact via ``rot90``.

    ``angles`` selects a subset (e.g. ``(180,)``) for ablations; each angle is one class.
    """

    def __init__(self, angles: tuple[int, ...] | list[int] = (90, 180, 270)) -> None:
        bad = [a for a in angles if a not in (90, 180, 270)]
        if bad or not angles:
            raise ValueError(f"rotation angles must be a non-empty subset of (90, 180, 270), got {list(angles)}")
        self.angles = tuple(angles)

    def variant_names(self) -> tuple[str, ...]:
        return tuple(f"rot{a}" for a in self.angles)

    def apply(self, batch, variant, generator=None):
        turns = torch.tensor([a // 90 for a in self.angles], device=batch.device)[variant.to(batch.device)]
        return rotate90(batch, turns), {}

    def __repr__(self) -> str:
        return f"Rotation(angles={self.angles})"


@register_transform("warp")
class Warp(Transform):
    """T₄: random polyharmonic-spline warp (sec. 4.2.2).

    Args:
        grid_size: control points per side, placed on a uniform grid over the image.
        max_offset: d as a fraction of the image size; offsets are uniform in [-d, d]² (thesis: 1/10).
        order: polyharmonic order k (1: r, 2: r² log r — thin-plate, 3: r³, …).
        padding_mode: how ``grid_sample`` fills samples from outside the image.
    """

    def __init__(
        self, grid_size: int = 4, max_offset: float = 0.1, order: int = 2, padding_mode: str = "reflection"
    ) -> None:
        if grid_size < 2:
            raise ValueError(f"warp grid_size must be >= 2, got {grid_size}")
        if not 0 < max_offset < 0.5:
            raise ValueError(f"warp max_offset is a fraction of the image size in (0, 0.5), got {max_offset}")
        if order < 1:
            raise ValueError(f"warp order must be >= 1, got {order}")
        self.grid_size, self.max_offset, self.order, self.padding_mode = grid_size, max_offset, order, padding_mode

    def variant_names(self) -> tuple[str, ...]:
        return ("warp",)

    def apply(self, batch, variant, generator=None):
        # d pixels on a side of S pixels is 2d/S in the normalised [-1, 1] frame.
        offsets = sample_offsets(batch.shape[0], self.grid_size, 2 * self.max_offset, generator).to(batch.device)
        return warp_images(batch, offsets, self.grid_size, self.order, self.padding_mode), {}

    def __repr__(self) -> str:
        return f"Warp(grid_size={self.grid_size}, max_offset={self.max_offset}, order={self.order})"
