"""Tests for transformrec.eval.low_shot: exact balanced counts, determinism, clear errors."""

from __future__ import annotations

import pytest
import torch

from transformrec.eval.low_shot import low_shot_indices, stratified_split

_SORTED = torch.tensor([0] * 10 + [1] * 7 + [2] * 5 + [5] * 12)
LABELS = _SORTED[torch.randperm(len(_SORTED), generator=torch.Generator().manual_seed(1))]  # classes 3, 4 absent


def test_low_shot_indices_takes_exactly_per_class_examples_of_every_class():
    indices = low_shot_indices(LABELS, per_class=4, seed=3)
    assert indices.dtype == torch.long
    assert len(indices) == 16 and len(set(indices.tolist())) == 16
    assert torch.equal(indices, indices.sort().values)
    counts = torch.bincount(LABELS[indices], minlength=6)
    assert counts.tolist() == [4, 4, 4, 0, 0, 4]  # absent classes 3 and 4 contribute nothing


def test_low_shot_indices_are_seed_deterministic():
    assert torch.equal(low_shot_indices(LABELS, 3, seed=7), low_shot_indices(LABELS, 3, seed=7))
    draws = {tuple(low_shot_indices(LABELS, 3, seed=seed).tolist()) for seed in range(5)}
    assert len(draws) > 1


def test_low_shot_indices_do_not_touch_the_global_rng():
    state = torch.get_rng_state()
    low_shot_indices(LABELS, 2)
    assert torch.equal(state, torch.get_rng_state())


def test_low_shot_indices_name_the_class_that_is_too_small():
    with pytest.raises(ValueError, match="class 2 has only 5 examples"):
        low_shot_indices(LABELS, per_class=6)
    with pytest.raises(ValueError, match="at least 1"):
        low_shot_indices(LABELS, per_class=0)


def test_stratified_split_is_disjoint_complete_and_proportional():
    train, val = stratified_split(LABELS, val_fraction=0.2, seed=0)
    assert set(train.tolist()).isdisjoint(val.tolist())
    assert sorted(train.tolist() + val.tolist()) == list(range(len(LABELS)))
    # round(0.2·n): 10 -> 2, 7 -> 1, 5 -> 1, 12 -> 2
    assert torch.bincount(LABELS[val], minlength=6).tolist() == [2, 1, 1, 0, 0, 2]
    assert torch.equal(stratified_split(LABELS, 0.2, seed=0)[1], val)


def test_stratified_split_keeps_one_example_on_each_side():
    train, val = stratified_split(torch.tensor([0, 0, 1, 1, 1]), val_fraction=0.01)
    assert torch.bincount(torch.tensor([0, 0, 1, 1, 1])[val]).tolist() == [1, 1]
    assert len(train) == 3
    with pytest.raises(ValueError, match="val_fraction"):
        stratified_split(LABELS, 1.0)
