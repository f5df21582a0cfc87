"""The temporal tasks of table 5.3: synchronisation offset and before/after, on frozen features.

Synchronisation: two overlapping 16-frame clips of one video, the second shifted by an offset
in −6…+6 frames, go separately through the frozen network; their conv5 features are fused by
difference ψ(v₁) − ψ(v₂) and three new FC layers classify the offset (13 classes).
Before/after: two non-overlapping 8-frame pieces x₁ (earlier) and x₂ (later) form one 16-frame
input, (x₁, x₂) for "before" and (x₂, x₁) for "after"; three new FC layers classify it.
Pairs are drawn from ``(seed, video, draw)``, so every backbone is tested on the same pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from transformrec.backbones.base import TappedBackbone
from transformrec.data.item_seeding import item_seed
from transformrec.eval.feature_mlp import standardize, train_feature_classifier
from transformrec.eval.registry import register_evaluation
from transformrec.eval.video_features import pool_clip_map

MAX_OFFSET = 6


def sync_pair_indices(start: int, offset: int, length: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames of clip 1 (from ``start``) and clip 2 (from ``start + offset``), consecutive frames each."""
    first = start + torch.arange(length)
    return first, first + offset


def before_after_indices(first_start: int, second_start: int, piece: int = 8, after: bool = False) -> torch.Tensor:
    """One input of two ``piece``-frame pieces: earlier then later ("before"), or swapped ("after")."""
    if second_start < first_start + piece:
        raise ValueError(f"pieces overlap: {first_start}+{piece} > {second_start}")
    earlier = first_start + torch.arange(piece)
    later = second_start + torch.arange(piece)
    return torch.cat([later, earlier]) if after else torch.cat([earlier, later])


def _draw_sync(num_frames: int, generator: torch.Generator, length: int = 16) -> tuple[torch.Tensor, torch.Tensor, int]:
    offset = int(torch.randint(-MAX_OFFSET, MAX_OFFSET + 1, (1,), generator=generator))
    low, high = max(0, -offset), num_frames - length - max(0, offset)
    start = low + int(torch.randint(high - low + 1, (1,), generator=generator))
    first, second = sync_pair_indices(start, offset, length)
    return first, second, offset + MAX_OFFSET


def _draw_before_after(num_frames: int, generator: torch.Generator, piece: int = 8):
    first_start = int(torch.randint(num_frames - 2 * piece + 1, (1,), generator=generator))
    second_start = (
        first_start + piece + int(torch.randint(num_frames - first_start - 2 * piece + 1, (1,), generator=generator))
    )
    after = bool(torch.rand(1, generator=generator) < 0.5)
    return before_after_indices(first_start, second_start, piece, after), int(after)


@torch.no_grad()
def _features(backbone: TappedBackbone, clips: list[torch.Tensor], tap: str, grid, device, batch_size: int = 16):
    out = []
    for start in range(0, len(clips), batch_size):
        batch = torch.stack(clips[start : start + batch_size]).to(device)
        out.append(pool_clip_map(backbone.forward_taps(batch, [tap])[tap], grid).float().cpu())
    return torch.cat(out)


def _task_data(backbone, videos, task: str, split: str, pairs_per_video: int, seed: int, tap: str, grid, device):
    first_clips, second_clips, labels = [], [], []
    task_offset = 0 if task == "sync" else 1_000_003
    for index in range(len(videos)):
        for draw in range(pairs_per_video):
            generator = torch.Generator().manual_seed(item_seed(seed + task_offset + 104729 * draw, split, index))
            if task == "sync":
                first, second, label = _draw_sync(videos.num_frames[index], generator)
                frames = videos.clip(index, torch.cat([first, second]))
                first_clips.append(frames[:, :16])
                second_clips.append(frames[:, 16:])
            else:
                indices, label = _draw_before_after(videos.num_frames[index], generator)
                first_clips.append(videos.clip(index, indices))
            labels.append(label)
    features = _features(backbone, first_clips, tap, grid, device)
    if task == "sync":
        features = features - _features(backbone, second_clips, tap, grid, device)  # ψ(v₁) − ψ(v₂)
    return features, torch.tensor(labels)


def _temporal_task(task, backbone, train_set, test_set, tap, grid, pairs_per_video, epochs, lr, device, seed):
    backbone = backbone.to(device)
    was_training = backbone.training
    backbone.eval()
    train_x, train_y = _task_data(backbone, train_set, task, "train", pairs_per_video, seed, tap, grid, device)
    test_x, test_y = _task_data(backbone, test_set, task, "test", pairs_per_video, seed, tap, grid, device)
    backbone.train(was_training)
    train_x, test_x = standardize(train_x, test_x)
    classes = 2 * MAX_OFFSET + 1 if task == "sync" else 2
    model = train_feature_classifier(train_x, train_y, classes, epochs=epochs, lr=lr, seed=seed)
    with torch.no_grad():
        train_acc = float((model(train_x).argmax(-1) == train_y).float().mean())
        test_predictions = model(test_x).argmax(-1)
        test_acc = float((test_predictions == test_y).float().mean())
    extra = {}
    if task == "sync":  # table 5.3 also reports the mean absolute error of the offset, in frames
        extra["test_mae"] = float((test_predictions - test_y).abs().float().mean())
    return {
        "train_acc": train_acc,
        "test_acc": test_acc,
        **extra,
        "chance": 1 / classes,
        "settings": {"tap": tap, "grid": list(grid), "pairs_per_video": pairs_per_video, "epochs": epochs},
    }


def _protocol(task: str, default_grid: tuple[int, int, int], summary: str):
    """The registered protocol of one temporal task; the two differ only in the task and the pooling grid."""

    def protocol(
        backbone: TappedBackbone,
        train_set,
        test_set,
        tap: str = "conv5",
        grid: Sequence[int] = default_grid,
        pairs_per_video: int = 4,
        epochs: int = 50,
        lr: float = 1e-3,
        device: str | torch.device = "cpu",
        seed: int = 0,
    ) -> dict[str, Any]:
        return _temporal_task(task, backbone, train_set, test_set, tap, grid, pairs_per_video, epochs, lr, device, seed)

    protocol.__doc__ = summary
    protocol.__name__ = protocol.__qualname__ = {"sync": "synchronization"}.get(task, task)
    return protocol


synchronization = register_evaluation("video_sync", run_inputs=("device", "seed"))(
    _protocol(
        "sync",
        (1, 2, 2),
        "Table 5.3 (sync): classify the offset −6…+6 between two clips from the difference of their features.",
    )
)
before_after = register_evaluation("video_before_after", run_inputs=("device", "seed"))(
    _protocol(
        "before_after",
        (2, 2, 2),
        "Table 5.3 (before/after): is the first 8-frame piece earlier or later than the second?",
    )
)
