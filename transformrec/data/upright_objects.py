"""``upright_objects``: the embedded default image set, ten objects with a canonical up on isotropic clutter.

Why it replaces ``procedural`` as the default: a data set on which a user can *see* rotation
pretraining work needs (i) objects whose upright pose is carried only by the layout of their parts
(:mod:`transformrec.data.upright_silhouettes`), (ii) backgrounds and clutter whose law no rotation
changes, so no local patch gives "up" away (:mod:`transformrec.data.noise_scenes`), and (iii)
nuisances strong enough that raw pixels and random features classify poorly. ``procedural`` has none
of (ii): its sky/ground layout makes rotation solvable from 8×8 patches; it stays registered as the
library's worked example of a local shortcut for ``transformrec audit``.

``fashion_on_noise`` is the cross-check with real shapes: Fashion-MNIST items (their own labels)
pasted in random colour, scale, tilt and position on the same backgrounds. It needs the Debian
package ``dataset-fashion-mnist`` (or torchvision's raw files under ``root``).

Every item is a pure function of ``(seed, split, index)`` (:mod:`transformrec.data.item_seeding`),
rendered in blocks of 256 and cached as uint8. The label of ``upright_objects`` item ``i`` is
``i mod 10``, so any prefix of 10·n items is exactly balanced; a different split or seed gives a
disjoint set of scenes. The same item at 32 and 64 px is the same scene.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)
from torch.utils.data import Dataset

from transformrec.data.item_seeding import SPLITS, item_uniforms
from transformrec.data.noise_scenes import NUM_PARAMS, render_scenes
from transformrec.data.registry import register_dataset
from transformrec.data.upright_silhouettes import CLASS_NAMES, silhouette_masks

_BLOCK = 256  # indices rendered together and cached together
_TEMPLATE_SIZE = 64


class _RenderedScenes(Dataset):
    """Shared machinery: validation, per-item parameters, block cache, ``__getitem__`` and ``render_batch``."""

    def __init__(self, num_samples: int, image_size: int, seed: int, split: str, channels: int, cache: bool) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        if num_samples < 0:
            raise ValueError(f"num_samples must be >= 0, got {num_samples}")
        if image_size < 8:
            raise ValueError(f"image_size must be >= 8, got {image_size}")
        self.num_samples = num_samples
        self.image_size = image_size
        self.seed = seed
        self.split = split
        self.channels = channels
        self.cache = cache
        self._blocks: dict[int, torch.Tensor] = {}

    # Subclasses say which object each item shows and what its label is.
    def _templates(self, indices: Sequence[int]) -> torch.Tensor:
        raise NotImplementedError

    @property
    def labels(self) -> torch.Tensor:
        raise NotImplementedError

    def _render_uint8(self, indices: Sequence[int]) -> torch.Tensor:
        params = item_uniforms(self.seed, self.split, indices, NUM_PARAMS)
        return render_scenes(params, self._templates(indices), self.image_size, self.channels)

    def render_batch(self, indices: Sequence[int] | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Render ``indices`` at once: float images ``B×C×S×S`` in [0, 1] (8-bit levels) and labels."""
        index_list = [int(i) for i in indices]
        for index in index_list:
            self._check_index(index)
        parts = [self._render_uint8(index_list[k : k + _BLOCK]) for k in range(0, len(index_list), _BLOCK)]
        images = torch.cat(parts) if parts else torch.empty(0, self.channels, self.image_size, self.image_size)
        return images.float().div_(255.0), self.labels[torch.as_tensor(index_list, dtype=torch.long)]

    def _block(self, block: int) -> torch.Tensor:
        cached = self._blocks.get(block)
        if cached is None:
            start = block * _BLOCK
            cached = self._render_uint8(range(start, min(start + _BLOCK, self.num_samples)))
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
        image = self._block(index // _BLOCK)[index % _BLOCK] if self.cache else self._render_uint8([index])[0]
        return image.float().div_(255.0), int(self.labels[index])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(split={self.split!r}, num_samples={self.num_samples}, "
            f"image_size={self.image_size}, channels={self.channels}, seed={self.seed}, classes={self.num_classes})"
        )


@register_dataset("upright_objects")
class UprightObjects(_RenderedScenes):
    """``num_samples`` scenes per split, each one of ten upright objects (see the module docstring).

    ``cache`` keeps rendered blocks as uint8 (``num_samples×C×S×S`` bytes: 30 MB for 10k at 32 px).
    """

    def __init__(
        self,
        num_samples: int = 10000,
        image_size: int = 32,
        seed: int = 0,
        split: str = "train",
        channels: int = 3,
        cache: bool = True,
    ) -> None:
        super().__init__(num_samples, image_size, seed, split, channels, cache)
        self.num_classes = len(CLASS_NAMES)
        self.class_names = list(CLASS_NAMES)
        self._masks = silhouette_masks(_TEMPLATE_SIZE)
        self._labels = torch.arange(num_samples) % self.num_classes

    @property
    def labels(self) -> torch.Tensor:
        """All labels (LongTensor): item ``i`` shows class ``i mod 10``; no image is rendered."""
        return self._labels

    def _templates(self, indices: Sequence[int]) -> torch.Tensor:
        return self._masks[self._labels[torch.as_tensor(list(indices), dtype=torch.long)]]


@register_dataset("fashion_on_noise")
class FashionOnNoise(_RenderedScenes):
    """Fashion-MNIST items (their labels) in random colour, scale, tilt and position on isotropic clutter.

    Item ``i`` shows Fashion-MNIST image ``i`` of the split (``train``: 60k, ``test``: 10k; ``val`` is
    refused, the source has none); ``num_samples`` defaults to all of them. ``root`` is passed to
    :class:`~transformrec.data.fashion_mnist.FashionMNIST`.
    """

    def __init__(
        self,
        num_samples: int | None = None,
        image_size: int = 32,
        seed: int = 0,
        split: str = "train",
        channels: int = 3,
        cache: bool = True,
        root: str | None = None,
    ) -> None:
        from transformrec.data.fashion_mnist import CLASS_NAMES as FASHION_CLASSES
        from transformrec.data.fashion_mnist import FashionMNIST

        if split == "val":
            raise ValueError("split must be 'train' or 'test' for fashion_on_noise (Fashion-MNIST has no val split)")
        source = FashionMNIST(root=root, split=split, image_size=28)
        available = len(source)
        num_samples = available if num_samples is None else num_samples
        if num_samples > available:
            raise ValueError(f"num_samples {num_samples} exceeds the {available} Fashion-MNIST {split} images")
        super().__init__(num_samples, image_size, seed, split, channels, cache)
        # Pad 28 -> 32 so tilted items are not clipped by the template's border.
        self._items = F.pad(source.images[:num_samples], (2, 2, 2, 2))
        self._labels = source.labels[:num_samples].clone()
        self.num_classes = len(FASHION_CLASSES)
        self.class_names = list(FASHION_CLASSES)

    @property
    def labels(self) -> torch.Tensor:
        """All labels (LongTensor), Fashion-MNIST's own."""
        return self._labels

    def _templates(self, indices: Sequence[int]) -> torch.Tensor:
        chosen = self._items[torch.as_tensor(list(indices), dtype=torch.long)]
        return chosen.unsqueeze(1).float().div_(255.0)
