"""Deterministic, resumable, shardable batch order.

Why not ``RandomSampler``: exact resume needs the order of an epoch to be a pure function of
(seed, epoch) and the position inside the epoch to be skippable; DDP needs each rank to take
its own slice of every global batch.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class EpochBatchSampler(Sampler[list[int]]):
    """Yields index lists of ``batch_size // world_size``; the global batch is ``batch_size``.

    The permutation of epoch e is drawn from ``torch.Generator().manual_seed(seed + e)``; the
    last incomplete global batch is dropped so every step has the same size on every rank.
    """

    def __init__(self, num_samples: int, batch_size: int, seed: int = 0, rank: int = 0, world_size: int = 1) -> None:
        if batch_size % world_size:
            raise ValueError(f"batch_size {batch_size} must be divisible by the number of processes {world_size}")
        if num_samples < batch_size:
            raise ValueError(f"dataset has {num_samples} samples, fewer than one batch of {batch_size}")
        self.num_samples, self.batch_size, self.seed = num_samples, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.epoch, self.start_batch = 0, 0

    def set_position(self, epoch: int, start_batch: int = 0) -> None:
        """Select the epoch to iterate and how many of its batches to skip (for resume)."""
        self.epoch, self.start_batch = epoch, start_batch

    def __len__(self) -> int:
        return self.num_samples // self.batch_size

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(self.num_samples, generator=torch.Generator().manual_seed(self.seed + self.epoch))
        local = self.batch_size // self.world_size
        for batch in range(self.start_batch, len(self)):
            start = batch * self.batch_size + self.rank * local
            yield order[start : start + local].tolist()
