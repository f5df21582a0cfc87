"""Tests for transformrec.bilevel.balanced_sampler: identical label counts across the k mini-batches."""

from __future__ import annotations

import pytest
import torch

from transformrec.bilevel import BalancedBatchSampler, balanced_partition


def test_every_step_has_k_mini_batches_with_identical_label_counts() -> None:
    labels = torch.arange(5).repeat_interleave(torch.tensor([40, 33, 25, 17, 9]))
    sampler = BalancedBatchSampler(labels, batch_size=6, k=4, seed=3)
    # Groups of 4 per class: 10 + 8 + 6 + 4 + 2 = 30; 6 per step → 5 steps.
    assert len(sampler) == 5
    seen = []
    for indices in sampler:
        assert len(indices) == 24
        chunks = labels[torch.tensor(indices)].reshape(4, 6)
        counts = [torch.bincount(chunk, minlength=5) for chunk in chunks]
        assert all(torch.equal(c, counts[0]) for c in counts)
        seen += indices
    assert len(seen) == len(set(seen))  # no sample twice in an epoch


def test_epochs_are_reproducible_and_differ() -> None:
    labels = torch.arange(4).repeat(16)
    sampler = BalancedBatchSampler(labels, batch_size=2, k=2, seed=0)
    first = list(sampler)
    assert first == list(sampler)
    sampler.set_epoch(1)
    assert first != list(sampler)


def test_unbalanced_mode_is_a_plain_shuffle_of_k_batches() -> None:
    labels = torch.arange(2).repeat_interleave(50)
    sampler = BalancedBatchSampler(labels, batch_size=5, k=4, seed=0, balanced=False)
    steps = list(sampler)
    assert len(steps) == 5 and all(len(s) == 20 for s in steps)
    assert len({i for s in steps for i in s}) == 100


def test_balanced_partition_drops_each_class_remainder() -> None:
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
    rows = balanced_partition(labels, 2, torch.Generator().manual_seed(0))
    assert rows.shape == (2, 4)  # class 0: 1 pair, class 1: 1 pair, class 2: 2 pairs
    assert torch.equal(labels[rows[0]].sort().values, labels[rows[1]].sort().values)
    assert len(set(rows.flatten().tolist())) == 8


def test_too_few_samples_is_an_error() -> None:
    with pytest.raises(ValueError, match="too few"):
        BalancedBatchSampler(torch.arange(10), batch_size=1, k=2)
