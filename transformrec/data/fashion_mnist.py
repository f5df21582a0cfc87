"""Fashion-MNIST read from the Debian package's files or from torchvision's raw folder layout.

Why not ``torchvision.datasets.FashionMNIST``: it wants its own folder layout and may try to
download. The Debian package ``dataset-fashion-mnist`` installs the original IDX files under
``/usr/share/datasets/fashion-mnist``, which lets tests and examples run offline.

Images are decoded once into a uint8 ``N×28×28`` tensor and converted per item, so the
float copy at the training size never has to be held in memory.

Sizing rule (``image_size``):
  * 28: the original pixels;
  * 32: zero-padded by 2 px on every side. The background is black, so this keeps every pixel
    exact, as in the usual LeNet-style 32×32 MNIST setup;
  * anything else: bilinear resize with antialiasing (``torch.nn.functional.interpolate``).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)
from torch.utils.data import Dataset

from transformrec.data.idx_format import read_idx
from transformrec.data.registry import register_dataset

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
CLASS_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
_PREFIX = {"train": "train", "test": "t10k"}
_NATIVE_SIZE = 28


def _candidates(root: str | None, stem: str) -> list[Path]:
    """Paths where the file ``stem`` (e.g. ``train-images-idx3-ubyte``) may live, in search order."""
    if root is None:
        return [Path(DEBIAN_DIR) / f"{stem}.gz", Path(DEBIAN_DIR) / stem]
    base = Path(root)
    folders = [base / "FashionMNIST" / "raw", base]
    return [folder / name for folder in folders for name in (f"{stem}.gz", stem)]


def find_fashion_mnist_file(root: str | None, stem: str) -> Path:
    """First existing candidate for ``stem``; the error lists every path tried and how to install the data."""
    candidates = _candidates(root, stem)
    for path in candidates:
        if path.is_file():
            return path
    searched = "\n  ".join(str(p) for p in candidates)
    raise FileNotFoundError(
        f"Fashion-MNIST file {stem!r} not found. Searched:\n  {searched}\n"
        "Install the Debian package with `apt-get install dataset-fashion-mnist`, or pass root= pointing to a "
        "folder with torchvision's layout (root/FashionMNIST/raw/...)."
    )


@register_dataset("fashion_mnist", run_inputs=("image_size", "split"))
class FashionMNIST(Dataset):
    """Fashion-MNIST (10 classes, 60000 train / 10000 test) as ``(C×S×S float in [0,1], label)``.

    ``limit`` keeps a random subset (drawn with ``seed``) for quick experiments and low-data runs;
    the order of the kept examples follows the file.
    """

    def __init__(
        self,
        root: str | None = None,
        split: str = "train",
        image_size: int = 32,
        channels: int = 1,
        limit: int | None = None,
        seed: int = 0,
    ) -> None:
        if split not in _PREFIX:
            raise ValueError(f"split must be one of {sorted(_PREFIX)}, got {split!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        if image_size < 1:
            raise ValueError(f"image_size must be positive, got {image_size}")
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be positive or None, got {limit}")
        prefix = _PREFIX[split]
        self.images_path = find_fashion_mnist_file(root, f"{prefix}-images-idx3-ubyte")
        self.labels_path = find_fashion_mnist_file(root, f"{prefix}-labels-idx1-ubyte")
        images = read_idx(self.images_path)
        labels = read_idx(self.labels_path)
        if images.dim() != 3 or images.dtype != torch.uint8:
            raise ValueError(
                f"{self.images_path}: expected uint8 N×H×W images, got {images.dtype} {tuple(images.shape)}"
            )
        if labels.dim() != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(
                f"{self.labels_path}: {tuple(labels.shape)} labels do not match {images.shape[0]} images "
                f"in {self.images_path}"
            )
        self.total = int(images.shape[0])
        if limit is not None and limit < self.total:
            generator = torch.Generator().manual_seed(seed)
            keep = torch.randperm(self.total, generator=generator)[:limit].sort().values
            images, labels = images[keep], labels[keep]
        self.images: torch.Tensor = images.contiguous()
        self.labels: torch.Tensor = labels.long()
        self.split = split
        self.image_size = image_size
        self.channels = channels
        self.num_classes = len(CLASS_NAMES)
        self.class_names = list(CLASS_NAMES)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self.images[index].unsqueeze(0).float().div_(255.0)  # 1×28×28
        image = _fit(image, self.image_size)
        if self.channels == 3:
            image = image.expand(3, -1, -1).contiguous()
        return image, int(self.labels[index])

    def stacked(self, count: int | None = None) -> torch.Tensor:
        """The first ``count`` images as one float ``N×C×S×S`` tensor in [0, 1], sized like ``__getitem__``.

        Why: GAN training and FID scoring sample thousands of random images per second from a few
        thousand; converting them once beats a DataLoader over per-item conversions on a CPU.
        """
        images = self.images[: len(self) if count is None else count].unsqueeze(1).float().div_(255.0)
        if images.shape[-1] != self.image_size:
            if self.image_size == 32 and images.shape[-1] == _NATIVE_SIZE:
                images = F.pad(images, (2, 2, 2, 2))
            else:
                size = (self.image_size, self.image_size)
                images = F.interpolate(images, size=size, mode="bilinear", antialias=True, align_corners=False)
                images = images.clamp_(0.0, 1.0)
        return images.expand(-1, self.channels, -1, -1).contiguous()

    def __repr__(self) -> str:
        return (
            f"FashionMNIST(split={self.split!r}, n={len(self)} of {self.total}, image_size={self.image_size}, "
            f"channels={self.channels}, images={os.fspath(self.images_path)!r})"
        )


def _fit(image: torch.Tensor, size: int) -> torch.Tensor:
    """Bring a ``1×28×28`` image to ``size`` by the rule in the module docstring."""
    height = image.shape[-1]
    if size == height:
        return image
    if size == 32 and height == _NATIVE_SIZE:
        return F.pad(image, (2, 2, 2, 2))
    return F.interpolate(image.unsqueeze(0), size=(size, size), mode="bilinear", antialias=True, align_corners=False)[
        0
    ].clamp_(0.0, 1.0)
