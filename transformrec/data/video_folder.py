"""A folder of encoded videos, one sub-folder per class (UCF101 / HMDB51 style), read clip by clip.

Only the frames of a clip are decoded (:func:`~transformrec.data.video_io.decode_frames`).
Files whose header cannot be read are skipped when the folder is scanned; files that fail
while decoding (truncated, corrupt packets) are skipped when met, replaced by the next
readable video; both are counted in :attr:`VideoFolder.skipped`, never fatal.

Decoded-frame cache (``frame_cache``): decoding H.264 costs more than a small 3D network's step
(PyAV decodes about 27 clips/s on a core where C3D-small trains on 64), so a video read every
epoch can be decoded once. ``memory`` keeps each video's frames (at ``image_size``, uint8) in the
process; ``disk`` writes them once to ``cache_dir`` as ``.npy`` (atomically, named by the file's
path, size, modification time and ``image_size``) and memory-maps them afterwards, which loader
worker processes share through the page cache. Cached frames are resized once and rounded to
uint8 (at most half a grey level away from resizing each clip's floats).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)
from torch.utils.data import Dataset

from transformrec.data.corrupt_items import first_decodable
from transformrec.data.registry import register_dataset
from transformrec.data.video_io import DECODERS, CorruptVideoError, decode_frames, probe_video
from transformrec.functional.frame_samplers import CLIP_LENGTH, max_speed, speed_indices, speed_span

log = logging.getLogger(__name__)
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov")
FRAME_CACHES = ("none", "memory", "disk")


@register_dataset("video_folder", run_inputs=("image_size", "split"))
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
        decoder: ``pyav`` (default) or ``opencv`` (:func:`~transformrec.data.video_io.decode_frames`).
        frame_cache: ``none``, ``memory`` or ``disk`` (see the module docstring).
        cache_dir: where ``disk`` writes (default: ``<root>/.frame_cache``).
    """

    def __init__(
        self,
        root: str | Path,
        split: str | None = None,
        clip_length: int = CLIP_LENGTH,
        speed: int = 2,
        image_size: int | None = None,
        limit: int | None = None,
        decoder: str = "pyav",
        frame_cache: str = "none",
        cache_dir: str | Path | None = None,
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"video folder not found: {self.root}")
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
        if frame_cache not in FRAME_CACHES:
            raise ValueError(f"frame_cache must be one of {FRAME_CACHES}, got {frame_cache!r}")
        self.decoder, self.frame_cache = decoder, frame_cache
        self.cache_dir = Path(cache_dir) if cache_dir is not None else self.root / ".frame_cache"
        self._decoded: dict[int, np.ndarray] = {}
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
        if self.frame_cache != "none":
            wanted = np.asarray(torch.as_tensor(frame_indices).tolist(), dtype=np.int64)
            frames = torch.from_numpy(np.ascontiguousarray(self.decoded_video(index)[wanted]))
            return frames.permute(3, 0, 1, 2).float().div_(255)
        frames = decode_frames(self.files[index], frame_indices, self.decoder).permute(3, 0, 1, 2).float().div_(255)
        return self._resized(frames)

    def _resized(self, frames: torch.Tensor) -> torch.Tensor:
        if self.image_size is not None and frames.shape[-1] != self.image_size:
            frames = F.interpolate(frames, size=(self.image_size, self.image_size), mode="bilinear", antialias=True)
        return frames

    def decoded_video(self, index: int) -> np.ndarray:
        """Every frame of video ``index`` at ``image_size``, uint8 ``(T, H, W, 3)``, from the frame cache."""
        if index in self._decoded:
            return self._decoded[index]
        path = self._cache_path(index) if self.frame_cache == "disk" else None
        frames = None
        if path is not None and path.exists():
            try:
                frames = np.load(path, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError):  # a damaged cache file is decoded again
                path.unlink(missing_ok=True)
        if frames is None:
            decoded = decode_frames(self.files[index], list(range(self.num_frames[index])), self.decoder)
            resized = self._resized(decoded.permute(3, 0, 1, 2).float()).round().clamp(0, 255).to(torch.uint8)
            frames = resized.permute(1, 2, 3, 0).contiguous().numpy()
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                temporary = path.with_suffix(f".{os.getpid()}.tmp.npy")
                np.save(temporary, frames)
                os.replace(temporary, path)
                frames = np.load(path, mmap_mode="r", allow_pickle=False)
        self._decoded[index] = frames
        return frames

    def _cache_path(self, index: int) -> Path:
        source = self.files[index]
        stat = source.stat()
        key = f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{self.image_size}"
        return self.cache_dir / f"{source.stem}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.npy"

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
