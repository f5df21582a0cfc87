"""Reading only the frames a temporal transformation asks for, and writing real encoded video.

Why PyAV: its wheels bundle FFmpeg (H.264 included), install from PyPI everywhere, and expose
seeking, so a 16-frame clip of a long video costs one seek to the keyframe before the first
wanted frame plus decoding up to the last one, not the whole file. (torchvision's video
decoding is deprecated in favour of torchcodec, which needs FFmpeg's shared libraries on the
system; decord is unmaintained.) OpenCV's FFmpeg backend (``pip install opencv-python-headless``,
the ``opencv`` extra) is the alternative ``decoder="opencv"``; ``benchmarks/temporal_tables.py``
measures both on the same files.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch


class CorruptVideoError(RuntimeError):
    """A video that cannot be opened or does not hold the frames it claims; names the file."""


@dataclass(frozen=True)
class VideoInfo:
    """What a clip sampler needs to know about a file before decoding anything."""

    num_frames: int
    fps: float
    height: int
    width: int


def _import_av():
    try:
        import av
    except ImportError as error:  # pragma: no cover - av is a declared dependency
        raise ImportError("reading video needs PyAV: pip install av") from error
    return av


def probe_video(path: str | Path) -> VideoInfo:
    """Frame count, frame rate and size from the container header (counting frames if it has none)."""
    av = _import_av()
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            num_frames = stream.frames
            if not num_frames:  # some containers do not store it: count packets instead
                num_frames = sum(1 for packet in container.demux(stream) if packet.size)
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            return VideoInfo(int(num_frames), fps, stream.codec_context.height, stream.codec_context.width)
    except (av.error.FFmpegError, IndexError, OSError) as error:
        raise CorruptVideoError(f"{path}: cannot read video header ({error})") from error


DECODERS = ("pyav", "opencv")


def decode_frames(path: str | Path, indices: torch.Tensor | list[int], decoder: str = "pyav") -> torch.Tensor:
    """Frames ``indices`` (any order, repeats allowed) as uint8 ``(T, H, W, 3)``.

    Seeks to the keyframe before the smallest index and decodes forward to the largest, keeping
    only the wanted frames; with PyAV a frame's index comes from its timestamp, so seeking is
    exact. ``decoder``: ``pyav`` or ``opencv``. Raises :class:`CorruptVideoError` naming the file
    if it is unreadable or too short.
    """
    wanted = [int(i) for i in (indices.tolist() if isinstance(indices, torch.Tensor) else indices)]
    if not wanted or min(wanted) < 0:
        raise ValueError(f"frame indices must be non-negative and non-empty, got {wanted[:5]}…")
    if decoder == "opencv":
        return _decode_opencv(path, wanted)
    if decoder != "pyav":
        raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    av = _import_av()
    needed = set(wanted)
    first, last = min(needed), max(needed)
    found: dict[int, np.ndarray] = {}
    try:
        times = presentation_times(path)
        if last >= len(times):
            short = sorted(i for i in needed if i >= len(times))
            raise CorruptVideoError(f"{path}: frames {short[:5]} are missing (truncated file or wrong length)")
        index_of = {pts: index for index, pts in enumerate(times)}
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            # One decoding thread: FFmpeg's default starts a pool of decoder threads at every open,
            # which for a 16-frame clip costs 20× the decoding itself on a busy 2-core machine
            # (measured: about 3 ms vs 55–85 ms for 64 frames at 32 px); parallelism belongs to
            # loader workers, one clip each.
            stream.codec_context.thread_count = 1
            container.seek(times[first], stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                index = index_of.get(frame.pts) if frame.pts is not None else None
                if index in needed:
                    found[index] = _rgb(frame)
                if frame.pts is not None and frame.pts >= times[last]:
                    break
    except (av.error.FFmpegError, OSError) as error:
        raise CorruptVideoError(f"{path}: decoding failed ({error})") from error
    missing = sorted(needed - set(found))
    if missing:
        raise CorruptVideoError(f"{path}: frames {missing[:5]} are missing (truncated file or wrong length)")
    return torch.from_numpy(np.stack([found[i] for i in wanted]))


def presentation_times(path: str | Path) -> tuple[int, ...]:
    """Every frame's timestamp (``pts``, in the stream's time base) in presentation order; frame
    ``i`` of the video is the one shown at ``times[i]``.

    Why not ``pts / frame duration``: in a variable-frame-rate video (phones, screen recordings,
    many web videos) frame durations differ, so that division skips and repeats indices and a valid
    file looked truncated. Read from the packets without decoding, once per file and process.
    """
    path = Path(path)
    return _presentation_times(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _presentation_times(path: str, _modified: int) -> tuple[int, ...]:
    av = _import_av()
    with av.open(path) as container:
        stream = container.streams.video[0]
        return tuple(sorted(p.pts for p in container.demux(stream) if p.pts is not None and p.size))


def _rgb(frame) -> np.ndarray:
    """``H×W×3`` uint8 RGB of a decoded frame, converted on the calling thread.

    Why ``threads=1``: left to itself, swscale starts a thread pool for every frame, which on a busy
    2-core machine makes a 32 px frame cost 0.2–7 ms instead of 0.08 ms (measured). PyAV before the
    ``threads`` option converts the default way.
    """
    try:
        return frame.to_ndarray(format="rgb24", threads=1)
    except TypeError:  # pragma: no cover - older PyAV
        return frame.to_ndarray(format="rgb24")


def _decode_opencv(path: str | Path, wanted: list[int]) -> torch.Tensor:
    """:func:`decode_frames` through OpenCV's FFmpeg backend: seek by frame number, then read forward."""
    try:
        import cv2
    except ImportError as error:
        raise ImportError("decoder 'opencv' needs OpenCV: pip install opencv-python-headless") from error
    first, last, needed = min(wanted), max(wanted), set(wanted)
    capture = cv2.VideoCapture(str(path))
    found: dict[int, np.ndarray] = {}
    try:
        if not capture.isOpened():
            raise CorruptVideoError(f"{path}: cannot open video")
        if first and not capture.set(cv2.CAP_PROP_POS_FRAMES, first):
            raise CorruptVideoError(f"{path}: cannot seek to frame {first}")
        for index in range(first, last + 1):
            ok, frame = capture.read()
            if not ok:
                break
            if index in needed:
                found[index] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()
    missing = sorted(needed - set(found))
    if missing:
        raise CorruptVideoError(f"{path}: frames {missing[:5]} are missing (truncated file or wrong length)")
    return torch.from_numpy(np.stack([found[i] for i in wanted]))


def write_video(path: str | Path, frames: torch.Tensor, fps: float = 25.0, crf: int = 18, gop: int = 16) -> Path:
    """Encode uint8 ``(T, H, W, 3)`` frames as H.264 (yuv420p) in an mp4; sizes must be even.

    ``gop`` bounds the distance between keyframes, and so the cost of a seek.
    """
    av = _import_av()
    if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be uint8 (T, H, W, 3), got {tuple(frames.shape)} {frames.dtype}")
    if frames.shape[1] % 2 or frames.shape[2] % 2:
        raise ValueError(f"H.264 with yuv420p needs even frame sizes, got {tuple(frames.shape[1:3])}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.mp4")
    with av.open(str(partial), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.height, stream.width = int(frames.shape[1]), int(frames.shape[2])
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "g": str(gop), "bf": "0"}
        for array in frames.numpy():
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    partial.replace(path)  # a crash mid-write never leaves a half-written video under the final name
    return path
