"""Random crop + horizontal flip applied to the batch with the trainer's generator (sec. 4.4)."""

from __future__ import annotations

import torch

from transformrec.functional.crop_flip import crop_and_flip


class RandomCropFlip:
    """Standard augmentation: reflect-padded random crop of the same size, optional h-flip.

    Parameters are drawn from the passed generator, so an interrupted run that restores the
    generator state sees the very same crops after resuming.
    """

    def __init__(self, padding: int = 4, hflip: bool = True) -> None:
        if padding < 0:
            raise ValueError(f"crop padding must be >= 0, got {padding}")
        self.padding, self.hflip = padding, hflip

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        batch = images.shape[0]
        top = torch.randint(2 * self.padding + 1, (batch,), generator=generator)
        left = torch.randint(2 * self.padding + 1, (batch,), generator=generator)
        flip = torch.rand(batch, generator=generator) < 0.5
        if not self.hflip:
            flip = torch.zeros_like(flip)
        return crop_and_flip(images, top, left, flip, self.padding)
