"""A history of corrupted examples (sec. 3.4.1 (f), following Shrivastava et al. [121]).

Why: a discriminator that only sees the repair network's latest outputs can forget how earlier
ones looked, and the generator can then cycle back to them. Half of the corrupted examples of
each mini-batch are therefore replaced by examples drawn from a buffer of past ones; the fresh
examples then enter the buffer (appended until it is full, afterwards overwriting random slots).
The drop masks travel with the images, so the mask head keeps a correct target.
"""

from __future__ import annotations

from typing import Any

import torch


class CorruptHistory:
    """Buffer of up to ``capacity`` past corrupted images and their keep masks Ω."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"history capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.images: torch.Tensor | None = None
        self.masks: torch.Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.images is None else self.images.shape[0]

    def mix(
        self, images: torch.Tensor, masks: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Replace ⌊B/2⌋ random rows of the batch by random past examples, then store the fresh batch.

        While the buffer holds fewer than ⌊B/2⌋ examples only that many rows are replaced.
        """
        count = min(images.shape[0] // 2, len(self))
        out_images, out_masks = images, masks
        if count > 0:
            assert self.images is not None and self.masks is not None
            rows = torch.randperm(images.shape[0], generator=generator)[:count].to(images.device)
            picks = torch.randint(len(self), (count,), generator=generator).to(self.images.device)
            out_images, out_masks = images.clone(), masks.clone()
            out_images[rows] = self.images[picks].to(images.device, images.dtype)
            out_masks[rows] = self.masks[picks].to(masks.device, masks.dtype)
        self.push(images, masks, generator)
        return out_images, out_masks

    def push(self, images: torch.Tensor, masks: torch.Tensor, generator: torch.Generator | None = None) -> None:
        """Store fresh examples: append while there is room, then overwrite random slots."""
        images, masks = images.detach(), masks.detach()
        if self.images is None or self.masks is None:
            self.images, self.masks = images[: self.capacity].clone(), masks[: self.capacity].clone()
            images, masks = images[self.capacity :], masks[self.capacity :]
        room = self.capacity - len(self)
        if room > 0 and images.shape[0] > 0:
            self.images = torch.cat([self.images, images[:room]])
            self.masks = torch.cat([self.masks, masks[:room]])
            images, masks = images[room:], masks[room:]
        if images.shape[0] > 0:
            slots = torch.randperm(self.capacity, generator=generator)[: images.shape[0]].to(self.images.device)
            self.images[slots] = images[: slots.shape[0]]
            self.masks[slots] = masks[: slots.shape[0]]

    def state_dict(self) -> dict[str, Any]:
        return {"capacity": self.capacity, "images": self.images, "masks": self.masks}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.capacity, self.images, self.masks = state["capacity"], state["images"], state["masks"]
