"""A folder of encoded videos, one sub-folder per class (UCF101 / HMDB51 style), read clip by clip.

Only the frames of a clip are decoded (:func:`~transformrec.data.video_io.decode_frames`).
Files whose header cannot be read are skipped when the folder is scanned; files that fail
while decoding (truncated, corrupt packets) are skipped when met, replaced by the next
readable video; both are counted in :attr:`VideoFolder.skipped`, never fatal.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)
from torch.utils.data import Dataset

from transformrec.data.corrupt_items import first_decodable
from transformrec.data.registry import register_dataset
from transformrec.data.video_io import CorruptVideoError, decode_frames, probe_video
from transformrec.functional.frame_samplers import CLIP_LENGTH, max_speed, speed_indices, speed_span

log = logging.getLogger(__name__)
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov")


@register_dataset("video_folder")
class VideoFolder(Dataset):
    """Videos under ``root/<class>/`` as ``(clip, label)``; a clip is float ``(3, T, H, W)`` in [0, 1].

    Args:
        root: the folder; class names are its sub-folders, sorted.
        split: keep only files whose name starts with ``<split>_`` (None: all files).
        clip_length: frames per clip (16 in the thesis).
        speed: κ of the clips returned by ``__getitem__``: the thesis evaluates at speed 2 (3
            frames skipped, sec. 5.3); limited per video to the largest speed that fits.
        image_size: resize frames to this square size (None: keep the file's size).
        limit: use at most this many videos (after sorting), for quick runs.
    """

    def __init__(
        self,
        root: str | Path,
        split: str | None = None,
        clip_length: int = CLIP_LENGTH,
        speed: int = 2,
        image_size: int | None = None,
        limit: int | None = None,
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"video folder not found: {self.root}")
        self.clip_length, self.speed, self.image_size = clip_length, speed, image_size
        self.class_names = sorted(p.name for p in self.root.iterdir() if p.is_dir())
        files = sorted(
            path
            for name in self.class_names
            for path in (self.root / name).iterdir()
            if path.suffix.lower() in VIDEO_SUFFIXES and (split is None or path.name.startswith(f"{split}_"))
        )
        if limit is not None:
            files = files[:limit]
        self.files: list[Path] = []
        self.num_frames: list[int] = []
        self.skipped: dict[str, str] = {}
        for path in files:
            try:
                info = probe_video(path)
                max_speed(info.num_frames, clip_length)
            except (CorruptVideoError, ValueError) as error:
                self.skipped[str(path)] = str(error)
                continue
            self.files.append(path)
            self.num_frames.append(info.num_frames)
        if self.skipped:
            log.warning("skipped %d unreadable or too short videos under %s", len(self.skipped), self.root)
        if not self.files:
            raise FileNotFoundError(f"no readable videos under {self.root} (split={split!r})")
        self.labels = torch.tensor([self.class_names.index(p.parent.name) for p in self.files])
        self.num_classes = len(self.class_names)
        self.channels = 3

    def __len__(self) -> int:
        return len(self.files)

    def clip(self, index: int, frame_indices: torch.Tensor) -> torch.Tensor:
        """Decode ``frame_indices`` of video ``index`` as float ``(3, T, H, W)``; raises CorruptVideoError."""
        frames = decode_frames(self.files[index], frame_indices).permute(3, 0, 1, 2).float().div_(255)
        if self.image_size is not None and frames.shape[-1] != self.image_size:
            frames = F.interpolate(frames, size=(self.image_size, self.image_size), mode="bilinear", antialias=True)
        return frames

    def clips(self, index: int, plans: list[torch.Tensor]) -> torch.Tensor:
        """Several clips of video ``index`` as ``K × 3 × T × H × W``, decoding each needed frame once.

        Overlapping clips (the four temporal transformations of one video, the evenly spread
        evaluation clips) share one seek-and-decode pass over the union of their frames.
        """
        wanted = torch.cat(plans).unique()
        frames = self.clip(index, wanted)  # 3 × U × H × W, U = distinct frames needed
        position = {int(f): i for i, f in enumerate(wanted.tolist())}
        return torch.stack([frames[:, [position[int(f)] for f in plan]] for plan in plans])

    def centre_clip_indices(self, index: int) -> torch.Tensor:
        """The speed-κ clip in the middle of video ``index`` (κ limited to what the video allows)."""
        kappa = min(self.speed, max_speed(self.num_frames[index], self.clip_length))
        start = (self.num_frames[index] - speed_span(kappa, self.clip_length)) // 2
        return speed_indices(kappa, start, self.clip_length)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        def load(current: int) -> tuple[torch.Tensor, int]:
            return self.clip(current, self.centre_clip_indices(current)), int(self.labels[current])

        return first_decodable(
            index,
            len(self.files),
            load,
            CorruptVideoError,
            self.skipped,
            self.files.__getitem__,
            f"video under {self.root}",
        )

    def __repr__(self) -> str:
        return (
            f"VideoFolder(root={str(self.root)!r}, n={len(self)}, classes={self.class_names}, "
            f"skipped={len(self.skipped)})"
        )
