"""Random polyharmonic warp vs kornia's thin-plate-spline warp on the same batch (target ratio <= 1.0).

Both sides do the whole job per batch: draw control-point offsets, fit the spline, build the
dense sampling grid and resample the images (zeros padding on both sides). kornia fits a TPS
per image (``get_tps_transform``) and evaluates it per pixel (``warp_image_tps``); ours
reuses the fixed interpolation operator of the control grid (see functional/polyharmonic.py).
The two outputs are not pixel-identical: kornia's fitting matrix uses distances between source
and destination points rather than between the centres, so its spline is not an exact
interpolant (ours matches scipy's RBFInterpolator, see tests/functional). This is a timing only.
"""

from __future__ import annotations

import time

import kornia.geometry.transform as KT
import torch

from transformrec.functional.warp import control_grid, sample_offsets, warp_images

NAME = "warp_vs_kornia"


def _timeit(fn, repeats: int) -> float:
    fn()  # warm-up (builds caches on both sides)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


SHAPES = {
    "smoke": [(8, 3, 32, 32)],
    "quick": [(64, 3, 32, 32), (64, 3, 64, 64)],
    "full": [(64, 3, 32, 32), (64, 3, 64, 64), (256, 3, 64, 64), (64, 3, 128, 128)],
}


def run(suite: str = "quick") -> dict:
    """Time both warps on identical batches for a few shapes; returns rows with the ratio."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    shapes = SHAPES[suite]
    grid_size, repeats = 4, {"smoke": 2, "quick": 5, "full": 20}[suite]
    rows = []
    for shape in shapes:
        images = torch.rand(shape, device=device)
        centers = control_grid(grid_size, device=device).unsqueeze(0).expand(shape[0], -1, -1)

        def ours(images=images, batch=shape[0]):
            offsets = sample_offsets(batch, grid_size, 0.2).to(device)
            return warp_images(images, offsets, grid_size, order=2, padding_mode="zeros")

        def kornia_tps(images=images, centers=centers, batch=shape[0]):
            offsets = sample_offsets(batch, grid_size, 0.2).to(device)
            # kornia maps destination points to source points; same convention as ours (backward warp).
            kernel_weights, affine_weights = KT.get_tps_transform(centers, centers + offsets)
            return KT.warp_image_tps(images, centers, kernel_weights, affine_weights, align_corners=False)

        if device == "cuda":
            torch.cuda.synchronize()
        t_ours, t_kornia = _timeit(ours, repeats), _timeit(kornia_tps, repeats)
        rows.append(
            {"batch": list(shape), "ours_ms": 1e3 * t_ours, "kornia_ms": 1e3 * t_kornia, "ratio": t_ours / t_kornia}
        )
    return {"device": device, "grid_size": grid_size, "repeats": repeats, "rows": rows}


def to_markdown(result: dict) -> str:
    lines = [
        f"Device: {result['device']}; {result['grid_size']}x{result['grid_size']} control points; "
        f"best of {result['repeats']} runs. Target: ratio <= 1.0.",
        "",
        "| batch (B, C, H, W) | ours (ms) | kornia TPS (ms) | ratio ours / kornia |",
        "|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(f"| {tuple(row['batch'])} | {row['ours_ms']:.2f} | {row['kornia_ms']:.2f} | {row['ratio']:.3f} |")
    return "\n".join(lines)
