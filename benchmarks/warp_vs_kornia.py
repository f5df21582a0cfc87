"""Random polyharmonic warp vs kornia's thin-plate-spline warp on the same batch (target ratio <= 1.0),
and vs a bare ``grid_sample`` of the same batch, the resampling the warp is made of (target <= 1.5).

Both sides do the whole job per batch: draw control-point offsets, fit the spline, build the
dense sampling grid and resample the images (zeros padding on both sides). kornia fits a TPS
per image (``get_tps_transform``) and evaluates it per pixel (``warp_image_tps``); ours
reuses the fixed interpolation operator of the control grid (see functional/polyharmonic.py).
The two outputs are not pixel-identical: kornia's fitting matrix uses distances between source
and destination points rather than between the centres, so its spline is not an exact
interpolant (ours matches scipy's RBFInterpolator, see tests/functional). This is a timing only.

The four are timed in interleaved rounds (best of each; a round repeats a fast call for about 5 ms),
so a load that changes during the run reaches all of them alike.
"""

from __future__ import annotations

import math
import time

import kornia.geometry.transform as KT
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias

from transformrec.functional.warp import control_grid, dense_flow, pixel_centers, sample_offsets, warp_images

NAME = "warp_vs_kornia"


def _best_times(functions: dict, repeats: int, round_seconds: float = 0.005) -> dict[str, float]:
    """Best seconds per call of each function over ``repeats`` interleaved rounds.

    A round calls a function enough times back to back to last about ``round_seconds`` (counted
    from a warm-up call), so a sub-millisecond call is not timed alone right after another
    function has evicted its data from the caches.
    """
    calls = {}
    for name, fn in functions.items():
        fn()  # warm-up (builds caches on every side)
        start = time.perf_counter()
        fn()
        calls[name] = max(1, math.ceil(round_seconds / max(time.perf_counter() - start, 1e-9)))
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeats):
        for name, fn in functions.items():
            start = time.perf_counter()
            for _ in range(calls[name]):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / calls[name])
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

        identity = pixel_centers(shape[2], shape[3], device=device).view(1, shape[2], shape[3], 2)
        identity = identity.expand(shape[0], -1, -1, -1).contiguous()

        offsets = sample_offsets(shape[0], grid_size, 0.2).to(device)
        warped = (dense_flow(offsets, shape[2], shape[3], grid_size) + identity).contiguous()

        def bare(images=images, identity=identity):
            return F.grid_sample(images, identity, mode="bilinear", padding_mode="zeros", align_corners=False)

        def bare_warped(images=images, warped=warped):
            return F.grid_sample(images, warped, mode="bilinear", padding_mode="zeros", align_corners=False)

        if device == "cuda":
            torch.cuda.synchronize()
        functions = {"ours": ours, "kornia": kornia_tps, "grid_sample": bare, "grid_sample_warped": bare_warped}
        best = _best_times(functions, repeats)
        rows.append(
            {
                "batch": list(shape),
                "ours_ms": 1e3 * best["ours"],
                "kornia_ms": 1e3 * best["kornia"],
                "grid_sample_ms": 1e3 * best["grid_sample"],
                "grid_sample_warped_ms": 1e3 * best["grid_sample_warped"],
                "ratio": best["ours"] / best["kornia"],
                "ratio_grid_sample": best["ours"] / best["grid_sample_warped"],
                "ratio_identity_grid": best["ours"] / best["grid_sample"],
            }
        )
    return {"device": device, "grid_size": grid_size, "repeats": repeats, "rows": rows}


def to_markdown(result: dict) -> str:
    with_bare = all("grid_sample_warped_ms" in row for row in result["rows"])
    lines = [
        f"Device: {result['device']}; {result['grid_size']}x{result['grid_size']} control points; "
        f"best of {result['repeats']} interleaved rounds. Targets: ours / kornia <= 1.0"
        + (
            "; ours / `grid_sample` of the same batch on a warp's grid (precomputed: the resampling the warp is "
            "made of, so the ratio is what drawing the offsets and building the grid add) <= 1.5. The identity "
            "grid's column shows why the target is read on a warp's grid: resampling at the pixel centres "
            "themselves is itself faster than resampling anywhere else."
            if with_bare
            else "."
        ),
        "",
    ]
    if with_bare:
        lines += [
            "| batch (B, C, H, W) | ours (ms) | kornia TPS (ms) | grid_sample, warp's grid (ms) | "
            "grid_sample, identity grid (ms) | ours / kornia | ours / grid_sample (warp's grid) |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in result["rows"]:
            ratio = row["ratio_grid_sample"]
            lines.append(
                f"| {tuple(row['batch'])} | {row['ours_ms']:.2f} | {row['kornia_ms']:.2f} | "
                f"{row['grid_sample_warped_ms']:.2f} | {row['grid_sample_ms']:.2f} | {row['ratio']:.3f} | "
                f"{ratio:.2f} {_verdict(ratio)} |"
            )
        return "\n".join(lines)
    lines += ["| batch (B, C, H, W) | ours (ms) | kornia TPS (ms) | ratio ours / kornia |", "|---|---|---|---|"]
    for row in result["rows"]:
        lines.append(f"| {tuple(row['batch'])} | {row['ours_ms']:.2f} | {row['kornia_ms']:.2f} | {row['ratio']:.3f} |")
    return "\n".join(lines)


def _verdict(ratio: float) -> str:
    return "(met)" if ratio <= 1.5 else "(not met)"
