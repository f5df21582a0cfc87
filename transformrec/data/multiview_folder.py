"""Synchronized multi-view sequences with 3D joints and calibrated cameras (chapter 6).

On-disk layout (Human3.6M-compatible in spirit; written by ``transformrec make-multiview``)::

    root/
      <subject>/                      e.g. S1, S5, S6, S7, S8 (train), S9, S11 (test)
        cameras.json                  {"cam0": {"K": 3×3, "R": 3×3, "t": [3]}, "cam1": …}
        <action>/                     e.g. walk, Directions_1 …
          joints3d.npy                float array T×17×3: joints in *world* coordinates (mm),
                                      Human3.6M 17-joint order (transformrec.functional.skeleton)
          cameras.json                optional, overrides the subject's calibration
          cam0/000000.png …           the frames of each camera (PNG or JPEG), sorted by name;
          cam1/ …                     frame i of every camera and joints3d[i] are simultaneous

Cameras follow OpenCV: ``X_cam = R · X_world + t``, pixels ``K · X_cam`` (u right, v down).
Human3.6M converts as follows: extract each video to frames (``ffmpeg -i S1/Videos/Walking.54138969.mp4
S1/Walking/cam0/%06d.png``), keep the 17 joints of the 32 in ``D3_Positions``
(:func:`human36m_joints`) and write each camera with :func:`human36m_camera` (Human3.6M gives a
rotation R and the camera *centre* T, so t = −R·T).

A sequence whose joints or calibration are missing or unreadable, or whose camera folders hold
no frames, is skipped at scan time; a frame that cannot be decoded raises
:class:`CorruptFrameError` naming the file, and the pair and pose data sets skip that item.
Both are counted in ``skipped`` (path → reason).

Background handling (sec. 6.2.2): ``background="keep" | "remove" | "substitute" | "mixed"``. The
background of a view is the per-pixel median over frames of that camera for the subject (all its
actions), the foreground is where a pixel differs from it by more than ``threshold`` in some
channel; ``remove`` blacks out the rest, ``substitute`` pastes the person over the median
background of a random camera, ``mixed`` does either with probability 1/2 (the 50:50 of sec. 6.3.2).

Crops (sec. 6.2.3–6.2.4): ``crop="subject"`` cuts every frame to a square centred on the
projected root joint that holds every projected joint (plus ``crop_margin``), from the frame at
its file's resolution, and resizes it to ``image_size``; the pose data set then expresses the
target in the coordinates of the virtual camera turned to look at the root
(:mod:`transformrec.functional.subject_crop`). ``crop="full"`` keeps the whole frame.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)
from PIL import Image
from torch.utils.data import Dataset

from transformrec.data.corrupt_items import first_decodable
from transformrec.data.registry import register_dataset
from transformrec.functional.background import median_background, remove_background, substitute_background
from transformrec.functional.camera import project, world_to_camera
from transformrec.functional.skeleton import NUM_JOINTS, ROOT
from transformrec.functional.subject_crop import centering_rotation, crop_square, subject_box

log = logging.getLogger(__name__)

TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS = ("S9", "S11")
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg")
BACKGROUND_MODES = ("keep", "remove", "substitute", "mixed")
CROP_MODES = ("full", "subject")
H36M_32_TO_17 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
"""Indices of the 17 evaluated joints among Human3.6M's 32 ``D3_Positions`` joints."""


def human36m_joints(positions_32: np.ndarray) -> np.ndarray:
    """The 17 evaluated joints (``T×17×3``) of Human3.6M's 32-joint ``D3_Positions`` (``T×32×3`` or ``T×96``)."""
    return np.asarray(positions_32, dtype=np.float64).reshape(-1, 32, 3)[:, list(H36M_32_TO_17)]


def human36m_camera(rotation, centre, focal, principal_point) -> dict[str, list]:
    """A ``cameras.json`` entry from Human3.6M's parameters: R, camera centre T (mm), f and c (pixels).

    Human3.6M maps a world point X to ``R (X − T)``; this layout uses ``R X + t``, so ``t = −R T``.
    """
    rotation = np.asarray(rotation, dtype=np.float64).reshape(3, 3)
    centre = np.asarray(centre, dtype=np.float64).reshape(3)
    fx, fy = np.broadcast_to(np.asarray(focal, dtype=np.float64).reshape(-1), (2,))
    cx, cy = np.asarray(principal_point, dtype=np.float64).reshape(2)
    intrinsics = [[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]]
    return {"K": intrinsics, "R": rotation.tolist(), "t": (-rotation @ centre).tolist()}


class CorruptFrameError(RuntimeError):
    """A frame file that cannot be decoded; the message names the file."""


@dataclass
class MultiViewSequence:
    """One (subject, action): camera names, per-camera calibration, world joints and frame files."""

    subject: str
    action: str
    path: Path
    cameras: list[str]
    intrinsics: torch.Tensor  # V×3×3
    rotations: torch.Tensor  # V×3×3
    translations: torch.Tensor  # V×3
    joints: torch.Tensor  # T×17×3, world, mm
    frames: list[list[Path]] = field(repr=False)  # V lists of T paths

    @property
    def num_frames(self) -> int:
        return self.joints.shape[0]

    @property
    def num_views(self) -> int:
        return len(self.cameras)

    def joints_camera(self, view: int, t: int | slice = slice(None)) -> torch.Tensor:
        """Joints of frame(s) ``t`` in the coordinates of camera ``view`` (mm)."""
        return world_to_camera(self.joints[t], self.rotations[view], self.translations[view])


def _read_calibration(path: Path) -> dict[str, dict[str, torch.Tensor]]:
    """The cameras of ``path``; anything malformed (not a mapping of cameras, a missing or non-numeric
    K / R / t, wrong shapes, non-finite values, a singular K or a rotation that is not one) is a
    ValueError naming the file and the camera, so the scan skips that sequence and says why."""
    raw = json.loads(path.read_text())
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{path}: must map camera names to {{K, R, t}}, got {type(raw).__name__}")
    calibration = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or any(key not in entry for key in ("K", "R", "t")):
            raise ValueError(f"{path}: camera {name!r} needs K (3×3), R (3×3) and t (3)")
        try:
            k, r, t = (torch.tensor(entry[key], dtype=torch.float64) for key in ("K", "R", "t"))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: camera {name!r} has a K, R or t that is not a numeric array ({error})") from None
        if k.shape != (3, 3) or r.shape != (3, 3) or t.shape != (3,):
            raise ValueError(f"camera {name!r} in {path} needs K 3×3, R 3×3, t 3; got {k.shape}, {r.shape}, {t.shape}")
        if not all(bool(torch.isfinite(m).all()) for m in (k, r, t)):
            raise ValueError(f"{path}: camera {name!r} has non-finite K, R or t values")
        if abs(float(torch.linalg.det(k))) < 1e-9:
            raise ValueError(f"{path}: camera {name!r} has a singular K (no projection can be inverted)")
        if not torch.allclose(r @ r.T, torch.eye(3, dtype=torch.float64), atol=1e-3):
            raise ValueError(f"{path}: camera {name!r} has an R that is not a rotation (R Rᵀ ≠ I)")
        calibration[name] = {"K": k, "R": r, "t": t}
    return calibration


def _subjects_for(split: str | None, subjects: Sequence[str] | None) -> tuple[str, ...] | None:
    if subjects is not None:
        return tuple(subjects)
    if split is None:
        return None
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train', 'test' or None, got {split!r}")
    return TRAIN_SUBJECTS if split == "train" else TEST_SUBJECTS


def _decode(path: Path) -> torch.Tensor:
    try:
        with Image.open(path) as image:
            array = np.asarray(image.convert("RGB"))
    except Exception as error:  # PIL raises many types for truncated / corrupt files
        raise CorruptFrameError(f"cannot decode frame {path}: {error}") from error
    return torch.from_numpy(array.copy()).permute(2, 0, 1)


@register_dataset("multiview_folder", run_inputs=("image_size", "split"))
class MultiViewFolder(Dataset):
    """Every frame of every camera as ``(image, -1)``; the pair sampler and pose data set build on it.

    Args:
        root: the folder (layout in the module docstring).
        split: ``"train"`` (S1, S5, S6, S7, S8) or ``"test"`` (S9, S11); None: every subject.
        subjects: explicit subject list (overrides ``split``).
        actions: keep only these actions (None: all).
        image_size: resize frames to this square size (None: keep the file's size).
        background: ``keep | remove | substitute | mixed`` (sec. 6.2.2, see module docstring).
        threshold: foreground threshold on the largest per-channel difference, images in [0, 1].
        median_frames: frames per (subject, camera) spread over its sequences for the median.
        cache: keep decoded frames in memory (uint8), for small data sets read many times.
        crop: ``full`` (the whole frame) or ``subject`` (see the module docstring).
        crop_margin: how far beyond the farthest projected joint a subject crop reaches (fraction).
    """

    channels = 3

    def __init__(
        self,
        root: str | Path,
        split: str | None = None,
        subjects: Sequence[str] | None = None,
        actions: Sequence[str] | None = None,
        image_size: int | None = None,
        background: str = "keep",
        threshold: float = 0.1,
        median_frames: int = 64,
        cache: bool = True,
        crop: str = "full",
        crop_margin: float = 0.15,
    ) -> None:
        self.root = Path(root)
        if crop not in CROP_MODES:
            raise ValueError(f"crop must be one of {CROP_MODES}, got {crop!r}")
        if crop_margin < 0:
            raise ValueError(f"crop_margin must be >= 0, got {crop_margin}")
        self.crop, self.crop_margin = crop, crop_margin
        if not self.root.is_dir():
            raise FileNotFoundError(f"multi-view folder not found: {self.root}")
        if background not in BACKGROUND_MODES:
            raise ValueError(f"background must be one of {BACKGROUND_MODES}, got {background!r}")
        self.background, self.threshold, self.median_frames = background, threshold, median_frames
        self.image_size, self.cache = image_size, cache
        wanted = _subjects_for(split, subjects)
        self.skipped: dict[str, str] = {}
        self.sequences: list[MultiViewSequence] = []
        subject_dirs = sorted(p for p in self.root.iterdir() if p.is_dir())
        for subject_dir in subject_dirs:
            if wanted is not None and subject_dir.name not in wanted:
                continue
            for action_dir in sorted(p for p in subject_dir.iterdir() if p.is_dir()):
                if actions is not None and action_dir.name not in actions:
                    continue
                try:
                    self.sequences.append(self._scan(subject_dir, action_dir))
                except (OSError, ValueError, KeyError) as error:
                    self.skipped[str(action_dir)] = str(error)
        if self.skipped:
            log.warning("skipped %d unreadable sequences under %s", len(self.skipped), self.root)
        if not self.sequences:
            raise FileNotFoundError(f"no readable multi-view sequences under {self.root} (subjects {wanted})")
        self.subjects = sorted({s.subject for s in self.sequences})
        sizes = [s.num_frames * s.num_views for s in self.sequences]
        self._offsets = np.cumsum([0, *sizes])
        self._frames: dict[tuple[int, int, int], torch.Tensor] = {}
        self._medians: dict[tuple[str, str], torch.Tensor] = {}

    def _scan(self, subject_dir: Path, action_dir: Path) -> MultiViewSequence:
        joints_path = action_dir / "joints3d.npy"
        if not joints_path.is_file():
            raise ValueError(f"missing {joints_path}")
        joints = np.load(joints_path, allow_pickle=False)
        if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3):
            raise ValueError(f"{joints_path} holds shape {joints.shape}, expected T×{NUM_JOINTS}×3")
        if not np.issubdtype(joints.dtype, np.number) or not np.isfinite(joints).all():
            raise ValueError(f"{joints_path} holds non-finite (NaN or infinite) or non-numeric joints")
        calibration_path = action_dir / "cameras.json"
        if not calibration_path.is_file():
            calibration_path = subject_dir / "cameras.json"
        if not calibration_path.is_file():
            raise ValueError(f"no cameras.json in {action_dir} or {subject_dir}")
        try:
            calibration = _read_calibration(calibration_path)
        except json.JSONDecodeError as error:
            raise ValueError(f"unreadable calibration {calibration_path}: {error}") from error
        cameras = sorted(p.name for p in action_dir.iterdir() if p.is_dir())
        missing = [c for c in cameras if c not in calibration]
        if missing:
            raise ValueError(f"cameras {missing} of {action_dir} have no calibration in {calibration_path}")
        frames = [sorted(p for p in (action_dir / c).iterdir() if p.suffix.lower() in FRAME_SUFFIXES) for c in cameras]
        counts = [len(f) for f in frames]
        if len(cameras) < 2 or min(counts) == 0:
            found = dict(zip(cameras, counts, strict=True))
            raise ValueError(f"{action_dir} needs at least 2 camera folders with frames, found {found}")
        length = min(min(counts), joints.shape[0])  # Human3.6M's videos and poses differ by a few frames
        return MultiViewSequence(
            subject=subject_dir.name,
            action=action_dir.name,
            path=action_dir,
            cameras=cameras,
            intrinsics=torch.stack([calibration[c]["K"] for c in cameras]),
            rotations=torch.stack([calibration[c]["R"] for c in cameras]),
            translations=torch.stack([calibration[c]["t"] for c in cameras]),
            joints=torch.from_numpy(joints[:length].astype(np.float64)),
            frames=[f[:length] for f in frames],
        )

    # ------------------------------------------------------------------ frames
    def raw_frame(self, sequence: int, view: int, t: int) -> torch.Tensor:
        """Frame ``t`` of camera ``view`` as it is on disk, float ``3×H×W`` in [0, 1]; resized to
        ``image_size`` for whole-frame use (a subject crop is resized after cropping instead)."""
        key = (sequence, view, t)
        cached = self._frames.get(key)
        if cached is None:
            cached = _decode(self.sequences[sequence].frames[view][t])
            if self.crop == "full" and self.image_size is not None and cached.shape[-1] != self.image_size:
                resized = F.interpolate(
                    cached[None].float(), size=(self.image_size,) * 2, mode="bilinear", antialias=True
                )
                cached = resized[0].round().clamp(0, 255).to(torch.uint8)
            if self.cache:
                self._frames[key] = cached
        return cached.float() / 255.0

    def median(self, subject: str, camera: str) -> torch.Tensor:
        """The static background of ``camera`` for ``subject``: median of frames over all its actions."""
        key = (subject, camera)
        if key not in self._medians:
            places = [
                (index, seq.cameras.index(camera), t)
                for index, seq in enumerate(self.sequences)
                if seq.subject == subject and camera in seq.cameras
                for t in range(seq.num_frames)
            ]
            picks = np.linspace(0, len(places) - 1, min(self.median_frames, len(places))).round().astype(int)
            frames = []
            for pick in picks:
                try:
                    frames.append(self.raw_frame(*places[pick]))
                except CorruptFrameError as error:
                    self.skipped[str(error)] = "skipped in the median"
            if not frames:
                raise CorruptFrameError(f"no decodable frame of {subject}/{camera} to estimate its background")
            self._medians[key] = median_background(torch.stack(frames))
        return self._medians[key]

    def frame(self, sequence: int, view: int, t: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Frame ``t`` of view ``view`` after the background handling of ``self.background`` and the crop."""
        image = self._background_handled(sequence, view, t, generator)
        if self.crop == "full":
            return image
        seq = self.sequences[sequence]
        uv = project(seq.joints_camera(view, t), seq.intrinsics[view])
        u, v, half = subject_box(uv, ROOT, self.crop_margin)
        return crop_square(image, u, v, half, self.image_size or image.shape[-2])

    def virtual_camera_rotation(self, sequence: int, view: int, t: int) -> torch.Tensor:
        """The rotation from camera ``view``'s coordinates to the subject-centred virtual camera's
        (identity for whole frames)."""
        if self.crop == "full":
            return torch.eye(3, dtype=torch.float64)
        return centering_rotation(self.sequences[sequence].joints_camera(view, t)[ROOT])

    def _background_handled(self, sequence: int, view: int, t: int, generator: torch.Generator | None) -> torch.Tensor:
        image = self.raw_frame(sequence, view, t)
        if self.background == "keep":
            return image
        seq = self.sequences[sequence]
        own = self.median(seq.subject, seq.cameras[view])
        mode = self.background
        if mode == "mixed":
            mode = "remove" if int(torch.randint(2, (1,), generator=generator)) == 0 else "substitute"
        if mode == "remove":
            return remove_background(image, own, self.threshold)
        other = seq.cameras[int(torch.randint(seq.num_views, (1,), generator=generator))]
        return substitute_background(image, own, self.median(seq.subject, other), self.threshold)

    # ------------------------------------------------------------------ dataset
    def locate(self, index: int) -> tuple[int, int, int]:
        """(sequence, view, t) of flat index ``index`` (sequence-major, then view, then time)."""
        sequence = int(np.searchsorted(self._offsets, index, side="right")) - 1
        within = index - int(self._offsets[sequence])
        frames = self.sequences[sequence].num_frames
        return sequence, within // frames, within % frames

    def __len__(self) -> int:
        return int(self._offsets[-1])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        generator = torch.Generator().manual_seed(index)
        return self.frame(*self.locate(index), generator=generator), -1


@register_dataset("multiview_poses", run_inputs=("image_size", "split"))
class MultiViewPoses(Dataset):
    """Single images with their 3D pose for the transfer of sec. 6.2.4.

    Items are ``(image 3×H×W, pose 17×3)``: the joints in the coordinates of the image's camera,
    relative to the root joint (pelvis fixed to zero), in mm. Every ``stride``-th frame of every
    camera of the chosen subjects is used (the thesis tests on one frame in 64).

    Args: those of :class:`MultiViewFolder` (``background``: ``keep`` or ``remove``), plus
    ``stride`` and ``limit`` (use at most this many items, spread evenly). With ``crop="subject"``
    the pose is in the coordinates of the virtual camera centred on the root joint (sec. 6.2.4).
    """

    channels = 3

    def __init__(
        self,
        root: str | Path,
        split: str | None = None,
        subjects: Sequence[str] | None = None,
        actions: Sequence[str] | None = None,
        image_size: int | None = None,
        background: str = "keep",
        threshold: float = 0.1,
        stride: int = 1,
        limit: int | None = None,
        cache: bool = True,
        crop: str = "full",
        crop_margin: float = 0.15,
    ) -> None:
        if background not in ("keep", "remove"):
            raise ValueError(f"pose data keeps or removes the background, got {background!r}")
        self.folder = MultiViewFolder(
            root,
            split,
            subjects,
            actions,
            image_size,
            background=background,
            threshold=threshold,
            cache=cache,
            crop=crop,
            crop_margin=crop_margin,
        )
        self.items = [
            (s, v, t)
            for s, seq in enumerate(self.folder.sequences)
            for v in range(seq.num_views)
            for t in range(0, seq.num_frames, stride)
        ]
        if limit is not None and limit < len(self.items):
            picks = np.linspace(0, len(self.items) - 1, limit).round().astype(int)
            self.items = [self.items[p] for p in picks]
        self.skipped = self.folder.skipped

    def __len__(self) -> int:
        return len(self.items)

    def pose(self, index: int) -> torch.Tensor:
        """Root-relative pose of item ``index`` in its (virtual) camera's coordinates, ``17×3`` float32."""
        sequence, view, t = self.items[index]
        joints = self.folder.sequences[sequence].joints_camera(view, t)
        rotation = self.folder.virtual_camera_rotation(sequence, view, t)
        return ((joints - joints[ROOT]) @ rotation.T.to(joints.dtype)).float()

    def poses(self) -> torch.Tensor:
        """All poses, ``N×17×3`` (for the per-joint normalisation statistics)."""
        return torch.stack([self.pose(i) for i in range(len(self))])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        def load(current: int) -> tuple[torch.Tensor, torch.Tensor]:
            return self.folder.frame(*self.items[current]), self.pose(current)

        return first_decodable(
            index, len(self.items), load, CorruptFrameError, self.skipped, self.items.__getitem__, "frame"
        )
