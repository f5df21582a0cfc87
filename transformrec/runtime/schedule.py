"""Optimiser and learning-rate schedule defaults of sec. 4.4.

AdamW with β = (0.5, 0.99), weight decay 1e-4, and the learning rate decayed from 3e-4 to
3e-7 by cosine annealing over the whole run (per step, so it does not depend on epoch size).
Chapter 3 decays linearly instead (3e-4 → 3e-6, sec. 3.3.3): ``schedule="linear"``.
"""

from __future__ import annotations

import math

import torch


def cosine_factor(step: int, total_steps: int, initial_lr: float, final_lr: float) -> float:
    """Multiplier of ``initial_lr`` at ``step``: final + ½(initial − final)(1 + cos(π·t/T)), over initial."""
    progress = min(max(step, 0), total_steps) / max(total_steps, 1)
    lr = final_lr + 0.5 * (initial_lr - final_lr) * (1.0 + math.cos(math.pi * progress))
    return lr / initial_lr


def linear_factor(step: int, total_steps: int, initial_lr: float, final_lr: float) -> float:
    """Multiplier of ``initial_lr`` at ``step`` for a straight line from ``initial_lr`` to ``final_lr``."""
    progress = min(max(step, 0), total_steps) / max(total_steps, 1)
    return (initial_lr + (final_lr - initial_lr) * progress) / initial_lr


SCHEDULES = {"cosine": cosine_factor, "linear": linear_factor}


def build_lr_schedule(
    optimizer: torch.optim.Optimizer, total_steps: int, initial_lr: float, final_lr: float, kind: str = "cosine"
) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step decay from ``initial_lr`` to ``final_lr`` over ``total_steps``, ``kind`` ``cosine`` or ``linear``."""
    if kind not in SCHEDULES:
        raise ValueError(f"schedule must be one of {tuple(SCHEDULES)}, got {kind!r}")
    factor = SCHEDULES[kind]
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: factor(step, total_steps, initial_lr, final_lr))


def build_optimizer(
    parameters, lr: float = 3e-4, betas: tuple[float, float] = (0.5, 0.99), weight_decay: float = 1e-4
) -> torch.optim.AdamW:
    """AdamW with the thesis's defaults for image pretext tasks."""
    return torch.optim.AdamW(parameters, lr=lr, betas=tuple(betas), weight_decay=weight_decay)


def build_cosine_schedule(
    optimizer: torch.optim.Optimizer, total_steps: int, initial_lr: float, final_lr: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step cosine decay from ``initial_lr`` to ``final_lr`` over ``total_steps``."""
    return build_lr_schedule(optimizer, total_steps, initial_lr, final_lr, "cosine")
