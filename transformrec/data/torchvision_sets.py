"""torchvision's classification data sets, by name, converted to the library's data contract.

Why a wrapper: torchvision data sets differ in how a split is chosen (``train=True`` or
``split="test"``), where labels are kept (``targets``, ``labels``, ``_labels``) and what they
return (PIL images of any size and mode). The trainer and the low-shot evaluation need one
shape: ``(C×S×S float in [0, 1], int label)`` plus ``labels`` without decoding images.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torchvision.datasets as tv_datasets
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms.functional import to_pil_image

from transformrec.data.image_folder import to_contract_image
from transformrec.data.registry import register_dataset

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Spec:
    """How to ask torchvision for a split: via ``train=bool`` or ``split=str``."""

    splits: tuple[str, ...]
    train_flag: bool = False  # True: split "train"/"test" -> train=True/False
    downloadable: bool = True


_TRAIN_TEST = ("train", "test")
SUPPORTED: dict[str, _Spec] = {
    "CIFAR10": _Spec(_TRAIN_TEST, train_flag=True),
    "CIFAR100": _Spec(_TRAIN_TEST, train_flag=True),
    "MNIST": _Spec(_TRAIN_TEST, train_flag=True),
    "FashionMNIST": _Spec(_TRAIN_TEST, train_flag=True),
    "KMNIST": _Spec(_TRAIN_TEST, train_flag=True),
    "STL10": _Spec(("train", "test", "unlabeled", "train+unlabeled")),
    "SVHN": _Spec(("train", "test", "extra")),
    "Food101": _Spec(_TRAIN_TEST),
    "Flowers102": _Spec(("train", "val", "test")),
    "DTD": _Spec(("train", "val", "test")),
    "OxfordIIITPet": _Spec(("trainval", "test")),
    "GTSRB": _Spec(_TRAIN_TEST),
    "Imagenette": _Spec(("train", "val")),
    "ImageNet": _Spec(("train", "val"), downloadable=False),
}


def _labels_of(dataset: Any) -> torch.Tensor:
    """Labels read from the attribute torchvision keeps them in; decoding every item is the slow fallback."""
    for attribute in ("targets", "labels", "_labels"):
        values = getattr(dataset, attribute, None)
        if values is not None and len(values) == len(dataset):
            return torch.as_tensor(np.asarray(values), dtype=torch.long)
    samples = getattr(dataset, "_samples", None) or getattr(dataset, "samples", None)
    if samples is not None and len(samples) == len(dataset):
        return torch.tensor([int(label) for _, label in samples], dtype=torch.long)
    logger.warning("%s keeps no label list; reading every item to collect labels", type(dataset).__name__)
    return torch.tensor([int(dataset[i][1]) for i in range(len(dataset))], dtype=torch.long)


def _class_names_of(dataset: Any, labels: torch.Tensor) -> list[str]:
    """``classes`` when present (first synonym of ImageNet-style tuples), else the label numbers."""
    classes = getattr(dataset, "classes", None)
    if classes:
        return [c[0] if isinstance(c, (tuple, list)) else str(c) for c in classes]
    count = int(labels.max()) + 1 if labels.numel() else 0
    return [str(i) for i in range(count)]


class TorchvisionDataset(Dataset):
    """Adapts any ``(image, int label)`` data set returning PIL images (or ``C×H×W`` tensors) to the contract.

    Images are resized on the shorter side and centre-cropped to ``image_size`` (see
    ``to_contract_image``); grey images are replicated to 3 channels, colour ones converted to
    luminance for 1 channel.
    """

    def __init__(self, dataset: Any, image_size: int = 32, channels: int = 3, name: str | None = None) -> None:
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        self.dataset = dataset
        self.name = name or type(dataset).__name__
        self.image_size = image_size
        self.channels = channels
        self.labels: torch.Tensor = _labels_of(dataset)
        self.class_names = _class_names_of(dataset, self.labels)
        self.num_classes = len(self.class_names)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, target = self.dataset[index]
        if torch.is_tensor(image):
            image = to_pil_image(image)
        if not isinstance(image, Image.Image):
            raise TypeError(f"{self.name}[{index}] returned {type(image).__name__}, expected a PIL image or tensor")
        return to_contract_image(image, self.image_size, self.channels), int(target)

    def __repr__(self) -> str:
        root = getattr(self.dataset, "root", None)
        where = f", root={os.fspath(root)!r}" if root is not None else ""
        split = getattr(self.dataset, "split", None)
        if split is None and hasattr(self.dataset, "train"):
            split = "train" if self.dataset.train else "test"
        split_text = f", split={split!r}" if split is not None else ""
        return (
            f"TorchvisionDataset({self.name}{split_text}, n={len(self)}, classes={self.num_classes}, "
            f"image_size={self.image_size}, channels={self.channels}{where})"
        )


def supported_torchvision_datasets() -> Sequence[str]:
    """Names accepted by ``torchvision_dataset``."""
    return sorted(SUPPORTED)


@register_dataset("torchvision", run_inputs=("image_size", "split"))
def torchvision_dataset(
    dataset: str,
    root: str,
    split: str = "train",
    download: bool = False,
    image_size: int = 32,
    channels: int = 3,
) -> TorchvisionDataset:
    """Build torchvision's data set ``dataset`` (e.g. ``"CIFAR10"``, ``"STL10"``) under ``root`` as a contract data set.

    ``download`` is off by default so that nothing touches the network unless asked; a data
    set missing on disk then fails with a message saying to pass ``download=True``. (The
    argument is not called ``name`` because ``build_dataset(name, **kwargs)`` already uses it.)
    """
    name = dataset
    spec = SUPPORTED.get(name)
    if spec is None:
        raise ValueError(f"unsupported torchvision dataset {name!r}; supported: {', '.join(sorted(SUPPORTED))}")
    if split not in spec.splits:
        raise ValueError(f"{name} has splits {list(spec.splits)}, got {split!r}")
    if download and not spec.downloadable:
        raise ValueError(f"{name} cannot be downloaded by torchvision; place its archives under {root!r} yourself")
    kwargs: dict[str, Any] = {"train": split == "train"} if spec.train_flag else {"split": split}
    if spec.downloadable:
        kwargs["download"] = download
    try:
        wrapped = getattr(tv_datasets, name)(root, **kwargs)
    except (RuntimeError, OSError) as error:
        if download:
            raise
        hint = "pass download=True to fetch it (needs network)" if spec.downloadable else "download it manually"
        raise FileNotFoundError(
            f"torchvision dataset {name} ({split}) not found under {root!r}: {error}; {hint}"
        ) from error
    return TorchvisionDataset(wrapped, image_size=image_size, channels=channels, name=name)
