"""Pieces shared by the in-process image renderers: HSV colours and single-threaded rendering."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def hsv_to_rgb(hue: torch.Tensor, sat: torch.Tensor, val: torch.Tensor) -> torch.Tensor:
    """``B`` HSV triples in [0, 1] -> ``B×3×1×1`` RGB, ready to broadcast over an image."""
    n = torch.tensor([5.0, 3.0, 1.0])
    k = (n + hue.unsqueeze(-1) * 6.0) % 6.0
    rgb = val.unsqueeze(-1) - val.unsqueeze(-1) * sat.unsqueeze(-1) * torch.minimum(k, 4.0 - k).clamp(0, 1)
    return rgb.view(-1, 3, 1, 1)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch ops on one intra-op thread for the duration of the block.

    Rendering is many small element-wise ops; extra intra-op threads only add synchronisation,
    and on a busy machine they made a block 20× slower. DataLoader workers parallelise across
    items instead.
    """
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
