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

from transformrec.data.item_seeding import item_uniforms
from transformrec.data.noise_scenes import NUM_PARAMS, render_scenes
from transformrec.data.registry import register_dataset
from transformrec.data.rendered_images import RenderedImageSet
from transformrec.data.upright_silhouettes import CLASS_NAMES, silhouette_masks

_TEMPLATE_SIZE = 64


class _SceneSet(RenderedImageSet):
    """One object per item, drawn from a per-item template by :func:`~transformrec.data.noise_scenes.render_scenes`."""

    def _templates(self, indices: Sequence[int]) -> torch.Tensor:
        raise NotImplementedError

    def render_uint8(self, indices: Sequence[int]) -> torch.Tensor:
        params = item_uniforms(self.seed, self.split, indices, NUM_PARAMS)
        return render_scenes(params, self._templates(indices), self.image_size, self.channels)


@register_dataset("upright_objects", run_inputs=("image_size", "split"))
class UprightObjects(_SceneSet):
    """``num_samples`` scenes per split, each one of ten upright objects (see the module docstring)."""

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


@register_dataset("fashion_on_noise", run_inputs=("image_size", "split"))
class FashionOnNoise(_SceneSet):
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
