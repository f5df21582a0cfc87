"""Feeding the video trainer: clips/s of each way of loading temporal-transformation clips vs C3D-small training.

Why: chapter 5's pretext decodes four clips per video per step; if decoding is slower than the
training step, the step waits for data. Side by side in one run, on the same procedural H.264
videos (``benchmarks.temporal_tables``' data: Fashion-MNIST sprites, 128 frames at 32 px), this
times TemporalClips batches (all four temporal transformations, 4 clips per video) through a
DataLoader for each loader configuration:

  * ``pyav``: PyAV decoding of only the frames a clip needs (the default), in the main process;
  * ``opencv``: the same through OpenCV's FFmpeg backend;
  * ``pyav, 2 workers``: PyAV in two loader worker processes;
  * ``disk cache`` / ``memory cache``: ``VideoFolder(frame_cache=...)``, after the one pass that
    fills the cache (its cost is reported too);

and the clips/s a C3D-small training step (AdamW, the 4-way motion head) consumes at the same batch
size, with torch's default threads. The ratio loader / train above 1 means one loader keeps the
step fed; the target is 2. Every rate is the median of ``rounds`` passes over ``batches`` batches.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from benchmarks.temporal_tables import SCALES, _transforms, _videos
from transformrec.backbones import build_backbone
from transformrec.data.temporal_clips import TemporalClips
from transformrec.data.video_folder import VideoFolder
from transformrec.transforms import TransformSet

NAME = "video_loading"
SETTINGS = {
    "smoke": {"scale": "smoke", "batches": 2, "rounds": 1, "batch": 4},
    "quick": {"scale": "quick", "batches": 6, "rounds": 2, "batch": 4},
    "full": {"scale": "full", "batches": 10, "rounds": 3, "batch": 4},
}
LOADERS = {  # label: (VideoFolder options, DataLoader workers)
    "pyav": ({"decoder": "pyav"}, 0),
    "opencv": ({"decoder": "opencv"}, 0),
    "pyav, 2 workers": ({"decoder": "pyav"}, 2),
    "disk cache (memory-mapped uint8)": ({"frame_cache": "disk"}, 0),
    "memory cache (uint8)": ({"frame_cache": "memory"}, 0),
}


def _task() -> TransformSet:
    return TransformSet(_transforms(["speed", "random_order", "periodic", "temporal_warp"], True))


def _clips_per_second(videos: VideoFolder, workers: int, cfg: dict[str, Any]) -> tuple[float, list]:
    """Median clips/s over ``rounds`` passes of ``batches`` batches; also returns the last pass's batches."""
    loader = DataLoader(TemporalClips(videos, _task(), seed=0), batch_size=cfg["batch"], num_workers=workers)
    rates, kept = [], []
    for _ in range(cfg["rounds"]):
        started, clips, kept = time.perf_counter(), 0, []
        for batch, targets in loader:
            clips += batch.shape[0] * batch.shape[1]
            kept.append((batch, targets))
            if len(kept) == cfg["batches"]:
                break
        rates.append(clips / (time.perf_counter() - started))
    return statistics.median(rates), kept


def _train_clips_per_second(batches: list, width: float, rounds: int) -> float:
    torch.manual_seed(0)
    model = build_backbone("c3d_small", width=width)
    head = torch.nn.Linear(model.feature_dim, 4)
    optimizer = torch.optim.AdamW([*model.parameters(), *head.parameters()], lr=3e-4, betas=(0.9, 0.99))

    def step(batch: torch.Tensor, targets: dict) -> None:
        inputs = batch.flatten(0, 1)
        loss = torch.nn.functional.cross_entropy(head(model(inputs)), targets["motion"].flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step(*batches[0])  # warm-up
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for batch, targets in batches:
            step(batch, targets)
        rates.append(sum(b.shape[0] * b.shape[1] for b, _ in batches) / (time.perf_counter() - started))
    return statistics.median(rates)


def run(suite: str = "quick") -> dict[str, Any]:
    """Every loader configuration and the training step, side by side (see the module docstring)."""
    cfg = SETTINGS[suite]
    scale = SCALES[cfg["scale"]]
    train, _ = _videos(scale)
    loaders: dict[str, dict[str, float]] = {}
    batches: list = []
    with tempfile.TemporaryDirectory() as cache:
        for label, (options, workers) in LOADERS.items():
            videos = VideoFolder(train.root, split="train", cache_dir=Path(cache) / label, **options)
            fill_seconds = None
            if videos.frame_cache != "none":
                started = time.perf_counter()
                for index in range(len(videos)):
                    videos.decoded_video(index)
                fill_seconds = time.perf_counter() - started
            rate, batches = _clips_per_second(videos, workers, cfg)
            loaders[label] = {"clips_per_second": rate, "workers": workers, "cache_fill_seconds": fill_seconds}
            print(f"  {label}: {rate:.1f} clips/s", flush=True)
    train_rate = _train_clips_per_second(batches, scale["width"], cfg["rounds"])
    print(f"  C3D-small training: {train_rate:.1f} clips/s", flush=True)
    return {
        "settings": {
            **cfg,
            "videos": len(train),
            "clip": f"16x{scale['size']}x{scale['size']}",
            "width": scale["width"],
        },
        "torch_threads": torch.get_num_threads(),
        "loaders": loaders,
        "train_clips_per_second": train_rate,
    }


def to_markdown(result: dict[str, Any]) -> str:
    s = result["settings"]
    train = result["train_clips_per_second"]
    lines = [
        f"Data: {s['videos']} procedural H.264 training videos (128 frames, {s['clip']} clips), TemporalClips with "
        f"the four temporal transformations (4 clips per video), batches of {s['batch']} videos; median of "
        f"{s['rounds']} passes over {s['batches']} batches. Training: C3D-small at width {s['width']}, AdamW, "
        f"{result['torch_threads']} torch threads: {train:.1f} clips/s. Measured side by side in one run.",
        "",
        "| loader | workers | clips/s | loader / train | one-off cache fill (s) |",
        "|---|---|---|---|---|",
    ]
    for label, row in result["loaders"].items():
        fill = "-" if row["cache_fill_seconds"] is None else f"{row['cache_fill_seconds']:.1f}"
        lines.append(
            f"| {label} | {row['workers']} | {row['clips_per_second']:.1f} | "
            f"{row['clips_per_second'] / train:.2f} | {fill} |"
        )
    best = max(result["loaders"].items(), key=lambda item: item[1]["clips_per_second"])
    lines += [
        "",
        f"Fastest: {best[0]}, loader / train = {best[1]['clips_per_second'] / train:.2f} (target ≥ 2).",
    ]
    return "\n".join(lines)
