"""The machinery shared by the image sets rendered in-process: validation, block cache, indexing.

Why one base: ``upright_objects``, ``fashion_on_noise`` and ``procedural`` all render an item as a
pure function of ``(seed, split, index)``, in blocks of 256 indices cached as uint8, and serve
``(C×S×S float image in [0, 1], label)``. A subclass says only how to render a list of indices and
what the labels are.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset

from transformrec.data.item_seeding import SPLITS

BLOCK = 256  # indices rendered together and cached together


class RenderedImageSet(Dataset):
    """Base of the in-process image sets; subclasses implement :meth:`render_uint8` and ``labels``.

    ``cache`` keeps rendered blocks as uint8 (``num_samples×C×S×S`` bytes: 30 MB for 10k at 32 px);
    without it every item is rendered on its own.
    """

    min_image_size = 8
    max_image_size = 512
    """Scenes are drawn for small-image pretext tasks; one 1024 px scene takes about 9 s to draw and a
    larger side would hang the first batch (or exhaust memory), so it is refused when the set is built."""
    max_samples = 10**8
    """More scenes than any run could draw; a larger count would only allocate its label table."""

    def __init__(self, num_samples: int, image_size: int, seed: int, split: str, channels: int, cache: bool) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        if not 0 <= num_samples <= self.max_samples:
            raise ValueError(f"num_samples must be in [0, {self.max_samples}], got {num_samples}")
        if not self.min_image_size <= image_size <= self.max_image_size:
            raise ValueError(f"image_size must be in [{self.min_image_size}, {self.max_image_size}], got {image_size}")
        self.num_samples = num_samples
        self.image_size = image_size
        self.seed = seed
        self.split = split
        self.channels = channels
        self.cache = cache
        self._blocks: dict[int, torch.Tensor] = {}

    def render_uint8(self, indices: Sequence[int]) -> torch.Tensor:
        """uint8 images ``len(indices)×C×S×S`` of these (valid) indices."""
        raise NotImplementedError

    @property
    def labels(self) -> torch.Tensor:
        """All labels (LongTensor), without rendering any image."""
        raise NotImplementedError

    def render_batch(self, indices: Sequence[int] | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Render ``indices`` at once: float images ``B×C×S×S`` in [0, 1] (8-bit levels) and labels.

        Values match ``self[i]`` up to one 8-bit level (vectorised maths may round differently for
        different batch shapes).
        """
        index_list = [int(i) for i in indices]
        for index in index_list:
            self._check_index(index)
        parts = [self.render_uint8(index_list[k : k + BLOCK]) for k in range(0, len(index_list), BLOCK)]
        images = torch.cat(parts) if parts else torch.empty(0, self.channels, self.image_size, self.image_size)
        return images.float().div_(255.0), self.labels[torch.as_tensor(index_list, dtype=torch.long)]

    def _block(self, block: int) -> torch.Tensor:
        cached = self._blocks.get(block)
        if cached is None:
            start = block * BLOCK
            cached = self.render_uint8(range(start, min(start + BLOCK, self.num_samples)))
            self._blocks[block] = cached
        return cached

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.num_samples:
            raise IndexError(f"index {index} out of range for {self.num_samples} samples")

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        index = int(index)
        if index < 0:
            index += self.num_samples
        self._check_index(index)
        image = self._block(index // BLOCK)[index % BLOCK] if self.cache else self.render_uint8([index])[0]
        return image.float().div_(255.0), int(self.labels[index])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(split={self.split!r}, num_samples={self.num_samples}, "
            f"image_size={self.image_size}, channels={self.channels}, seed={self.seed}, classes={self.num_classes})"
        )
