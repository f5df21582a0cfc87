"""Images from a folder: ``root/<class>/<files>`` (labelled) or a flat ``root/<files>`` (label -1).

Why verify at construction: one corrupt file in a large scraped folder otherwise kills a
training run hours in, inside a DataLoader worker. Each file's header is checked once with
PIL (``Image.verify``); failures are skipped, listed in ``skipped`` and counted in a warning.

``to_contract_image`` (PIL → ``C×S×S`` float in [0, 1]) is shared with the torchvision wrapper.
EXIF orientation is applied on load: a photo stored sideways with an orientation tag would
otherwise be a wrongly labelled example for rotation recognition (ch. 4).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch.utils.data import Dataset

from transformrec.data.corrupt_items import first_decodable
from transformrec.data.registry import register_dataset

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff", ".ppm", ".pgm", ".pbm")


HIGH_DEPTH_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
"""Single-channel modes with more than 8 bits (16-bit PNG / TIFF, 32-bit integer, float TIFF)."""


def _to_8_bit(image: Image.Image) -> Image.Image:
    """A high-depth grey image as 8-bit grey, scaled by its real range rather than clipped at 255
    (PIL's own conversion saturates 16-bit images and blackens float ones).

    Integer images are read as 16-bit (÷ 65535) unless their values exceed it (then ÷ their
    maximum); float images already in [0, 1] are kept, others are stretched from their minimum to
    their maximum. Non-finite float pixels become 0.
    """
    array = np.asarray(image, dtype=np.float64)
    if image.mode == "F":
        array = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            array = (array - low) / (high - low) if high > low else np.zeros_like(array)
    else:
        array = array / max(65535.0, float(array.max()))
    return Image.fromarray(np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8), mode="L")


def to_contract_image(image: Image.Image, image_size: int, channels: int) -> torch.Tensor:
    """Resize the shorter side to ``image_size`` (antialiased bicubic), centre-crop, return ``C×S×S`` in [0, 1].

    Transparent images are composited onto black so the alpha channel never leaks into colour;
    16-bit, 32-bit and float grey images are scaled by their real range (:func:`_to_8_bit`).
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if image.mode in HIGH_DEPTH_MODES:
        image = _to_8_bit(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
    image = image.convert("RGB" if channels == 3 else "L")
    width, height = image.size
    scale = image_size / min(width, height)
    new_w, new_h = max(image_size, round(width * scale)), max(image_size, round(height * scale))
    if (new_w, new_h) != (width, height):
        image = image.resize((new_w, new_h), Image.Resampling.BICUBIC)
    left, top = (new_w - image_size) // 2, (new_h - image_size) // 2
    image = image.crop((left, top, left + image_size, top + image_size))
    array = np.array(image, dtype=np.uint8)
    tensor = torch.from_numpy(array)
    tensor = tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)
    return tensor.float().div_(255.0)


def _is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def _image_files(folder: Path, recursive: bool) -> list[Path]:
    pattern = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in pattern if _is_image_file(p))


def _verifies(path: Path) -> bool:
    """True when PIL can parse the header (and, for PNG, the chunk checksums)."""
    try:
        with Image.open(path) as image:
            image.verify()
    except Exception:  # PIL raises many types here (OSError, SyntaxError, struct.error, ...)
        return False
    return True


class CorruptImageError(OSError):
    """An image file whose header reads but whose pixel data does not decode (a truncated JPEG)."""


@register_dataset("image_folder", run_inputs=("image_size",))
class ImageFolderDataset(Dataset):
    """``root/<class>/**/<image>`` with classes sorted by folder name, or flat ``root/<image>`` with label -1.

    When ``root`` has class folders, images lying directly in ``root`` are ignored (as in
    torchvision's ``ImageFolder``).
    """

    def __init__(self, root: str, image_size: int = 64, channels: int = 3) -> None:
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"image folder {os.fspath(self.root)!r} does not exist or is not a directory")
        class_dirs = sorted(d for d in self.root.iterdir() if d.is_dir() and not d.name.startswith("."))
        per_class = {d.name: _image_files(d, recursive=True) for d in class_dirs}
        per_class = {name: files for name, files in per_class.items() if files}
        candidates: list[tuple[Path, int]]
        if per_class:
            self.class_names = list(per_class)
            candidates = [(p, label) for label, files in enumerate(per_class.values()) for p in files]
        else:
            self.class_names = []
            candidates = [(p, -1) for p in _image_files(self.root, recursive=False)]
        if not candidates:
            raise ValueError(
                f"image folder {os.fspath(self.root)!r} holds no image files (looked for {', '.join(IMAGE_EXTENSIONS)} "
                "in root/<class>/ or directly in root)"
            )
        self.skipped: list[str] = [os.fspath(p) for p, _ in candidates if not _verifies(p)]
        self.undecodable: dict[str, str] = {}  # passed the header check, failed to decode when read
        skipped = set(self.skipped)
        kept = [(p, label) for p, label in candidates if os.fspath(p) not in skipped]
        if self.skipped:
            logger.warning(
                "image folder %s: skipped %d unreadable file(s) of %d, e.g. %s",
                self.root,
                len(self.skipped),
                len(candidates),
                self.skipped[0],
            )
        if not kept:
            raise ValueError(f"image folder {os.fspath(self.root)!r}: all {len(candidates)} image files are unreadable")
        self.paths: list[Path] = [p for p, _ in kept]
        self.labels: torch.Tensor = torch.tensor([label for _, label in kept], dtype=torch.long)
        self.num_classes = len(self.class_names)
        self.image_size = image_size
        self.channels = channels

    def __len__(self) -> int:
        return len(self.paths)

    def _decode(self, index: int) -> tuple[torch.Tensor, int]:
        path = self.paths[index]
        try:
            with Image.open(path) as image:
                image = ImageOps.exif_transpose(image)
                tensor = to_contract_image(image, self.image_size, self.channels)
        except OSError as error:  # passed verify() but the pixel data is damaged (e.g. truncated JPEG)
            raise CorruptImageError(f"cannot decode image {os.fspath(path)!r}: {error}") from error
        return tensor, int(self.labels[index])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """Image ``index``; one whose pixel data fails to decode is replaced by the next that decodes.

        The failure is counted in ``skipped`` (and ``undecodable``, with its message) and logged, so
        a truncated file costs one warning, not the run; the replacement depends on the index only.
        """
        known = len(self.undecodable)
        item = first_decodable(
            index, len(self.paths), self._decode, CorruptImageError, self.undecodable, self.paths.__getitem__, "image"
        )
        if len(self.undecodable) != known:
            self.skipped.extend(path for path in self.undecodable if path not in self.skipped)
        return item

    def __repr__(self) -> str:
        layout = f"{self.num_classes} classes" if self.class_names else "flat, unlabelled"
        return (
            f"ImageFolderDataset(root={os.fspath(self.root)!r}, n={len(self)}, {layout}, skipped={len(self.skipped)}, "
            f"image_size={self.image_size}, channels={self.channels})"
        )
