"""Exact 90° rotations (sec. 4.2.3, after Gidaris et al.): no interpolation, so no artefacts."""

from __future__ import annotations

import torch


def rotate90(images: torch.Tensor, quarter_turns: torch.Tensor) -> torch.Tensor:
    """Rotate each image of (B, C, H, W) counter-clockwise by ``quarter_turns[b]`` × 90°.

    Images must be square: a 90° turn of a non-square image changes its shape and would make
    the rotation trivially recognisable from the size alone.
    """
    if images.shape[-1] != images.shape[-2]:
        raise ValueError(f"rotation needs square images, got {tuple(images.shape[-2:])}")
    turns = quarter_turns.to(images.device).long() % 4
    out = images.clone()
    for k in (1, 2, 3):
        selected = turns == k
        if selected.any():
            out[selected] = torch.rot90(images[selected], k, dims=(-2, -1))
    return out
