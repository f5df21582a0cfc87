"""k mini-batches with identical label distributions (Remark 1, sec. 8.3; table 8.1 c).

Why: eq. 8.10 compares the gradient of each training mini-batch with the validation gradient.
If two mini-batches hold different classes their gradients are nearly orthogonal and the weights
carry no information, so every step draws k mini-batches with the same multiset of labels.
``balanced=False`` gives the plain random split of ablation c).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler


def balanced_partition(labels: torch.Tensor, k: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Split the positions of ``labels`` into k rows with identical per-class counts.

    Per class, the positions are shuffled and dealt out in groups of k (one to each row); the
    ``count mod k`` left over are dropped, so each row has ``Σ_c ⌊n_c / k⌋`` entries. Row order
    is shuffled too, so a class does not cluster at one end of a mini-batch. Returns a
    ``(k, m)`` long tensor of positions; used on an already-drawn batch (e.g. transformed
    pretext batches whose labels are only known after the transforms ran).
    """
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    labels = torch.as_tensor(labels).cpu()
    groups = []
    for value in labels.unique():
        positions = (labels == value).nonzero().flatten()
        positions = positions[torch.randperm(len(positions), generator=generator)]
        usable = len(positions) // k * k
        groups.append(positions[:usable].reshape(-1, k))
    if not groups or sum(len(g) for g in groups) == 0:
        raise ValueError(f"no class has at least k={k} samples; cannot build {k} balanced mini-batches")
    table = torch.cat(groups)  # rows: groups of k same-class positions
    table = table[torch.randperm(len(table), generator=generator)]
    return table.T.contiguous()


class BalancedBatchSampler(Sampler[list[int]]):
    """Yields ``k·batch_size`` indices per step: k consecutive mini-batches with the same label counts.

    Each epoch (permutation seeded by ``seed + epoch``) every class is shuffled and cut into
    groups of k same-class samples; the groups are shuffled and each step takes ``batch_size``
    of them, giving sample j of mini-batch i from group j. Every sample is visited at most once
    per epoch (class remainders mod k and the last partial step are dropped), so epochs of
    bilevel and plain SGD visit each sample equally often (sec. 8.2.1).

    ``balanced=False`` draws the ``k·batch_size`` indices from a plain shuffle (table 8.1 c).
    """

    def __init__(
        self, labels: Sequence[int] | torch.Tensor, batch_size: int, k: int, seed: int = 0, balanced: bool = True
    ) -> None:
        self.labels = torch.as_tensor(labels).long().cpu()
        if batch_size < 1 or k < 1:
            raise ValueError(f"batch_size and k must be positive, got {batch_size} and {k}")
        self.batch_size, self.k, self.seed, self.balanced = batch_size, k, seed, balanced
        self.epoch = 0
        if len(self) == 0:
            raise ValueError(f"{len(self.labels)} samples are too few for one step of {k} x {batch_size}")

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order ``__iter__`` yields."""
        self.epoch = epoch

    def __len__(self) -> int:
        if not self.balanced:
            return len(self.labels) // (self.k * self.batch_size)
        groups = sum(int(c) // self.k for c in torch.bincount(self.labels - self.labels.min()))
        return groups // self.batch_size

    def __iter__(self) -> Iterator[list[int]]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        step = self.k * self.batch_size
        if not self.balanced:
            order = torch.randperm(len(self.labels), generator=generator)
            for start in range(0, len(self) * step, step):
                yield order[start : start + step].tolist()
            return
        partition = balanced_partition(self.labels, self.k, generator)  # (k, groups)
        for s in range(len(self)):
            yield partition[:, s * self.batch_size : (s + 1) * self.batch_size].reshape(-1).tolist()
