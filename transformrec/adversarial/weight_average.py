"""An exponential moving average (EMA) of a generator's weights, the network GAN scores are read from.

Why: a GAN's generator oscillates around the equilibrium from step to step, so FID read from the
raw weights swings by as much as the differences a table ranks (measured at our scale: an sd of
1.5–5.4 FID between the last five evaluations of one Fashion-MNIST run). The authors' code
(sjenni/dfgan) evaluates an EMA of the weights (decay 0.9999 over 100K steps); averaging damps
the oscillation without changing training, which never sees the average.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage(nn.Module):
    """θ̄ ← d·θ̄ + (1 − d)·θ after every update of the tracked network, d = min(decay, (1 + t) / (10 + t)).

    The warm-up min(…) is TensorFlow's ``ExponentialMovingAverage(num_updates=t)`` rule: early on
    the average forgets the random initialisation quickly, so a run shorter than the nominal
    horizon 1 / (1 − decay) is not dominated by its first weights. Buffers (BN running statistics)
    are copied, not averaged. ``averaged`` is a frozen copy of the network to sample from.
    """

    def __init__(self, network: nn.Module, decay: float) -> None:
        super().__init__()
        if not 0 <= decay < 1:
            raise ValueError(f"ema decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.averaged = copy.deepcopy(network).requires_grad_(False)
        self.register_buffer("updates", torch.tensor(0, dtype=torch.long))

    def current_decay(self) -> float:
        t = int(self.updates)
        return min(self.decay, (1 + t) / (10 + t))

    @torch.no_grad()
    def update(self, network: nn.Module) -> None:
        """Move the average towards ``network``'s current weights (call after each of its optimiser steps)."""
        decay = self.current_decay()
        for average, current in zip(self.averaged.parameters(), network.parameters(), strict=True):
            average.lerp_(current.detach(), 1 - decay)
        for average, current in zip(self.averaged.buffers(), network.buffers(), strict=True):
            average.copy_(current)
        self.updates += 1
