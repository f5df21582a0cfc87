"""Random polyharmonic-spline warps of image batches (sec. 4.2.2).

Control points lie on a uniform ``grid × grid`` lattice over the image; each is displaced by
an offset drawn uniformly from [-d, d]² (d = image size / 10 in the thesis). The dense flow
interpolates those offsets with a polyharmonic spline plus affine term, and the image is
resampled with ``grid_sample``, so the warp is differentiable w.r.t. the image.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F

from transformrec.functional.polyharmonic import interpolation_operator


def control_grid(
    grid_size: int, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Uniform ``grid_size²`` control points in normalised [-1, 1] coordinates, (x, y) order."""
    if grid_size < 2:
        raise ValueError(f"warp grid_size must be >= 2, got {grid_size}")
    ticks = torch.linspace(-1.0, 1.0, grid_size, device=device, dtype=dtype)
    ys, xs = torch.meshgrid(ticks, ticks, indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], dim=-1)


def pixel_centers(height: int, width: int, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32):
    """Normalised (x, y) coordinates of pixel centres as used by ``grid_sample(align_corners=False)``."""
    ys = (torch.arange(height, device=device, dtype=dtype) * 2 + 1) / height - 1
    xs = (torch.arange(width, device=device, dtype=dtype) * 2 + 1) / width - 1
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([xx.flatten(), yy.flatten()], dim=-1)


@lru_cache(maxsize=32)
def _cached_operator(height: int, width: int, grid_size: int, order: int, device: str, dtype: torch.dtype):
    points = pixel_centers(height, width, device="cpu", dtype=torch.float64)
    centers = control_grid(grid_size, dtype=torch.float64)
    return interpolation_operator(points, centers, order).to(device=device, dtype=dtype)


def dense_flow(offsets: torch.Tensor, height: int, width: int, grid_size: int, order: int = 2) -> torch.Tensor:
    """Interpolate control-point ``offsets`` (B, grid², 2), in normalised units, to a (B, H, W, 2) flow."""
    operator = _cached_operator(height, width, grid_size, order, str(offsets.device), offsets.dtype)
    return (operator @ offsets).view(offsets.shape[0], height, width, 2)


def warp_images(
    images: torch.Tensor,
    offsets: torch.Tensor,
    grid_size: int,
    order: int = 2,
    padding_mode: str = "reflection",
) -> torch.Tensor:
    """Warp ``images`` (B, C, H, W) by the spline flow of ``offsets`` (B, grid², 2).

    Each output pixel p samples the input at p + flow(p) (backward warping), so a control
    point's content moves by minus its offset. Reflection padding keeps borders textured, so
    the border itself is no shortcut cue for the classifier.
    """
    batch, _, height, width = images.shape
    flow = dense_flow(offsets.to(images.dtype), height, width, grid_size, order)
    base = pixel_centers(height, width, device=images.device, dtype=images.dtype).view(1, height, width, 2)
    return F.grid_sample(images, base + flow, mode="bilinear", padding_mode=padding_mode, align_corners=False)


def sample_offsets(
    batch: int, grid_size: int, max_offset: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Offsets uniform in [-max_offset, max_offset]² (normalised units), drawn on the CPU generator."""
    uniform = torch.rand(batch, grid_size * grid_size, 2, generator=generator)
    return (uniform * 2 - 1) * max_offset
