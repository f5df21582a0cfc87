"""Seconds per Trainer step, several Trainers timed side by side in interleaved rounds.

Why interleaved: on a shared machine the load changes during a run; timing each Trainer's steps
in turn, round after round, and keeping each one's best round lets a change reach all of them
alike, so their ratio means something. Steps come from :meth:`Trainer.steps` after
:meth:`Trainer.start` (pre-training phases of learned transforms happen there, untimed).
"""

from __future__ import annotations

import time
from typing import Any

import torch

from transformrec.backbones.registry import build_backbone
from transformrec.training.trainer import Trainer


def sync(device: str) -> None:
    """Wait for queued CUDA work, so a timer reads the work done, not the work launched."""
    if device == "cuda":
        torch.cuda.synchronize()


def timing_backbone(image_size: int) -> torch.nn.Module:
    """The speed benchmarks' backbone: AlexNet-BN (width 0.5, fc 1024), the same seeded weights every time."""
    torch.manual_seed(0)
    return build_backbone("alexnet_bn", width=0.5, fc_dim=1024, image_size=image_size)


def quiet_trainer(transforms: Any, data: Any, image_size: int, **options: Any) -> Trainer:
    """A Trainer on :func:`timing_backbone` without augmentation, progress or TensorBoard, so the
    timed steps hold the training alone; ``options`` are the Trainer's (batch size, steps, ...)."""
    return Trainer(
        transforms=transforms,
        backbone=timing_backbone(image_size),
        data=data,
        augment=None,
        progress=False,
        tensorboard=False,
        **options,
    )


def _timed(steps, count: int, device: str) -> float:
    sync(device)
    start = time.perf_counter()
    for _ in range(count):
        next(steps)
    sync(device)
    return time.perf_counter() - start


def interleaved_step_times(
    trainers: dict[str, Trainer], warm_up: int, per_round: int, rounds: int, device: str
) -> tuple[dict[str, float], dict[str, float]]:
    """(best seconds per step, seconds of the ``warm_up`` first steps) of each Trainer.

    Each Trainer must have ``warm_up + per_round × rounds`` steps or more. The warm-up steps are
    timed apart: they hold one-off costs (``torch.compile``'s code generation, allocator growth).
    """
    streams = {}
    for name, trainer in trainers.items():
        trainer.start(resumed=False)
        streams[name] = trainer.steps()
    warm = {name: _timed(streams[name], warm_up, device) for name in trainers}
    best = dict.fromkeys(trainers, float("inf"))
    for _ in range(rounds):
        for name in trainers:
            best[name] = min(best[name], _timed(streams[name], per_round, device) / per_round)
    return best, warm
