"""Batched random crops and horizontal flips, the standard augmentation of sec. 4.4.

Done on the batch with explicit offsets (instead of per sample in data-loader workers) so the
parameters come from the trainer's seeded generator and a resumed run replays them exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def crop_and_flip(images: torch.Tensor, top: torch.Tensor, left: torch.Tensor, flip: torch.Tensor, padding: int):
    """Reflect-pad by ``padding``, crop each image at (top[b], left[b]), flip where ``flip[b]``."""
    batch, channels, height, width = images.shape
    padded = F.pad(images, (padding,) * 4, mode="reflect") if padding > 0 else images
    device = images.device
    rows = top.to(device).view(batch, 1) + torch.arange(height, device=device).view(1, height)
    cols = left.to(device).view(batch, 1) + torch.arange(width, device=device).view(1, width)
    flip = flip.to(device).view(batch, 1)
    cols = torch.where(flip, cols.flip(-1), cols)
    index_rows = rows.view(batch, 1, height, 1).expand(batch, channels, height, padded.shape[-1])
    picked_rows = padded.gather(2, index_rows)
    index_cols = cols.view(batch, 1, 1, width).expand(batch, channels, height, width)
    return picked_rows.gather(3, index_cols)
