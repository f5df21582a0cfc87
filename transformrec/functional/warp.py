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
    """The interpolation operator, transposed: (grid², H·W), so one GEMM serves the whole batch."""
    points = pixel_centers(height, width, device="cpu", dtype=torch.float64)
    centers = control_grid(grid_size, dtype=torch.float64)
    return interpolation_operator(points, centers, order).t().contiguous().to(device=device, dtype=dtype)


@lru_cache(maxsize=32)
def _cached_sampling_operator(height: int, width: int, grid_size: int, order: int, device: str, dtype: torch.dtype):
    """The operator with the pixel centres' x and y appended as two more rows: (grid² + 2, H·W).

    Why: the sampling positions p + flow(p) then come out of one plain GEMM whose two extra inputs
    per image row are a constant 1 (see :func:`_sampling_rows`), instead of an ``addmm`` that reads
    a (2B, H·W) tensor of pixel centres as its start term (as large as the grid itself).
    """
    operator = _cached_operator(height, width, grid_size, order, device, dtype)
    centres = pixel_centers(height, width, device=device, dtype=dtype).t()  # (2, H·W): x row, y row
    return torch.cat([operator, centres]).contiguous()


@lru_cache(maxsize=8)
def _cached_selectors(device: str, dtype: torch.dtype) -> torch.Tensor:
    """(1, 2, 2) identity: the x row of an image picks the centres' x row, its y row the y row."""
    return torch.eye(2, device=device, dtype=dtype).unsqueeze(0)


def _field_rows(offsets: torch.Tensor) -> torch.Tensor:
    """Offsets (B, grid², 2) as GEMM rows (2B, grid²): x then y for each image (a view when
    ``offsets`` is a transposed (B, 2, grid²) tensor, as :func:`sample_offsets` returns)."""
    batch, points, _ = offsets.shape
    return offsets.transpose(1, 2).reshape(batch * 2, points)


def _sampling_rows(offsets: torch.Tensor) -> torch.Tensor:
    """GEMM rows (2B, grid² + 2) for :func:`_cached_sampling_operator`: each image's x and y offsets
    followed by the selector of its centre row; one ``cat`` writes them (and the transpose) at once."""
    batch, points, _ = offsets.shape
    selectors = _cached_selectors(str(offsets.device), offsets.dtype).expand(batch, 2, 2)
    return torch.cat([offsets.transpose(1, 2), selectors], dim=2).view(batch * 2, points + 2)


def _as_grid(field: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(2B, H·W) GEMM output as the (B, H, W, 2) strided view that ``grid_sample`` reads."""
    return field.view(-1, 2, height, width).permute(0, 2, 3, 1)


def dense_flow(offsets: torch.Tensor, height: int, width: int, grid_size: int, order: int = 2) -> torch.Tensor:
    """Interpolate control-point ``offsets`` (B, grid², 2), in normalised units, to a (B, H, W, 2) flow.

    Why one GEMM of (2B, grid²) by (grid², H·W) rather than a batched (H·W, grid²) @ (grid², 2)
    per image: the batched form runs B tiny matrix products and made the warp 2.3–3.1× the
    ``grid_sample`` it feeds (measured); the result is a strided view, which ``grid_sample`` reads.
    """
    operator = _cached_operator(height, width, grid_size, order, str(offsets.device), offsets.dtype)
    return _as_grid(_field_rows(offsets) @ operator, height, width)


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
    _, _, height, width = images.shape
    offsets = offsets.to(images.dtype)
    # Sampling positions p + flow(p) in one GEMM: the pixel centres are two more rows of the operator.
    operator = _cached_sampling_operator(height, width, grid_size, order, str(images.device), images.dtype)
    grid = _as_grid(_sampling_rows(offsets) @ operator, height, width)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


def sample_offsets(
    batch: int, grid_size: int, max_offset: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Offsets uniform in [-max_offset, max_offset]² (normalised units), drawn on the CPU generator.

    Returned as (B, grid², 2), a transposed view of (B, 2, grid²) storage: drawn in that order, the
    x and y rows :func:`warp_images` multiplies are already contiguous, and one ``uniform_`` draws
    them where ``rand`` and a scale would take three passes (the warp's fixed cost at small batches).
    """
    offsets = torch.empty(batch, 2, grid_size * grid_size).uniform_(-max_offset, max_offset, generator=generator)
    return offsets.transpose(1, 2)
