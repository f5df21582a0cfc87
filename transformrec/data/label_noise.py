"""Corrupted training data for the memorisation experiments of sec. 8.4.2–8.4.3.

Why: chapter 8 measures how much a network memorises by training on labels where a fraction π
of each class is reassigned uniformly to the other c − 1 classes (figures 8.3, 8.4, table 8.1
"50% Random"), and on images whose pixels are randomly permuted (table 8.2). Both wrappers keep
the library's dataset contract, so any trainer or evaluation can consume them, and keep the
clean labels so that accuracy on the noisy training labels and on the clean ones can both be
reported.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from transformrec.data.registry import build_dataset, register_dataset


def corrupt_labels(labels: torch.Tensor, fraction: float, num_classes: int, seed: int = 0) -> torch.Tensor:
    """Reassign ``round(fraction · n_c)`` random examples of every class c to a uniform other class.

    This is the noise model of sec. 8.4.3: "for a noise level π and a dataset with c classes, we
    randomly choose a fraction of π examples per class and uniformly assign labels of the other
    c − 1 classes" (so π = 0.9 on 10 classes is an entirely random labelling). Deterministic
    given ``seed``; returns a new tensor.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    if num_classes < 2 and fraction > 0:
        raise ValueError("label noise needs at least two classes")
    labels = torch.as_tensor(labels).long()
    noisy = labels.clone()
    generator = torch.Generator().manual_seed(seed)
    for value in labels.unique().tolist():
        positions = (labels == value).nonzero().flatten()
        chosen = positions[torch.randperm(len(positions), generator=generator)[: round(fraction * len(positions))]]
        # An offset in 1..c-1 added modulo c is a uniform draw over the other classes.
        offsets = torch.randint(1, num_classes, (len(chosen),), generator=generator)
        noisy[chosen] = (value + offsets) % num_classes
    return noisy


def _resolve(base: Dataset | str | dict[str, Any]) -> Dataset:
    if isinstance(base, Dataset):
        return base
    if isinstance(base, str):
        return build_dataset(base)
    params = dict(base)
    return build_dataset(params.pop("name"), **params)


def _labels(dataset: Dataset) -> torch.Tensor:
    labels = getattr(dataset, "labels", None)
    if labels is None:  # not one of this library's datasets: read every item once
        labels = [int(dataset[i][1]) for i in range(len(dataset))]  # type: ignore[arg-type]
    return torch.as_tensor(labels, dtype=torch.long)


class _Wrapper(Dataset):
    """Forwards the dataset contract's attributes (``channels``, ``image_size``, ``num_classes``...)."""

    def __init__(self, base: Dataset) -> None:
        self.base = base
        self.clean_labels = _labels(base)
        self.num_classes = int(getattr(base, "num_classes", None) or int(self.clean_labels.max()) + 1)
        for attribute in ("channels", "image_size", "class_names"):
            if hasattr(base, attribute):
                setattr(self, attribute, getattr(base, attribute))

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]


@register_dataset("noisy_labels")
class NoisyLabels(_Wrapper):
    """``base`` with a fraction π of every class relabelled uniformly to another class (sec. 8.4.3).

    ``labels`` are the noisy labels the model trains on, ``clean_labels`` the originals and
    ``is_noisy`` marks the changed examples. ``base`` is a dataset, a registered name, or a
    mapping ``{name: ..., **params}`` (so configs can write ``{name: noisy_labels, fraction: 0.4,
    base: {name: fashion_mnist, split: train}}``).
    """

    def __init__(self, base: Dataset | str | dict[str, Any], fraction: float = 0.4, seed: int = 0) -> None:
        super().__init__(_resolve(base))
        self.fraction = fraction
        self.labels = corrupt_labels(self.clean_labels, fraction, self.num_classes, seed)
        self.is_noisy = self.labels != self.clean_labels

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, _ = self.base[index]
        return image, int(self.labels[index])


def pixel_permutation(num_pixels: int, seed: int) -> torch.Tensor:
    """The fixed random permutation of ``num_pixels`` spatial positions drawn from ``seed``."""
    return torch.randperm(num_pixels, generator=torch.Generator().manual_seed(seed))


@register_dataset("pixel_permuted")
class PixelPermuted(_Wrapper):
    """``base`` with the pixels of each image shuffled by a fixed random permutation (table 8.2).

    ``per_image=True`` (table 8.2: "random pixel permutations (fixed per image)") gives image i
    its own permutation, drawn from ``seed`` and i, identical every time the image is read;
    ``per_image=False`` applies one permutation to every image (Zhang et al.'s "shuffled
    pixels"). All channels of a pixel move together; labels are unchanged.
    """

    def __init__(self, base: Dataset | str | dict[str, Any], per_image: bool = True, seed: int = 0) -> None:
        super().__init__(_resolve(base))
        self.labels = self.clean_labels
        self.per_image, self.seed = per_image, seed
        self._shared: torch.Tensor | None = None

    def permutation(self, index: int, num_pixels: int) -> torch.Tensor:
        """The permutation applied to image ``index`` (flat spatial positions, row-major)."""
        if self.per_image:
            return pixel_permutation(num_pixels, self.seed * 1_000_003 + index)
        if self._shared is None or len(self._shared) != num_pixels:
            self._shared = pixel_permutation(num_pixels, self.seed)
        return self._shared

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.base[index]
        flat = image.flatten(1)
        permuted = flat[:, self.permutation(index, flat.shape[1])]
        return permuted.reshape(image.shape), label
