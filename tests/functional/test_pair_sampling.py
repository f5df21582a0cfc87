"""Pair indices of sec. 6.2.1: unsynchronized gaps strictly inside (d_min, d_max), uniform; distinct views."""

import pytest
import torch
from scipy.stats import chisquare

from transformrec.functional.pair_sampling import allowed_offsets, unsynchronized_times, view_pair


def test_unsynchronized_gap_obeys_bounds_and_is_uniform():
    generator = torch.Generator().manual_seed(0)
    gaps = []
    for _ in range(12000):
        t1, t2 = unsynchronized_times(200, 4, 128, generator)
        assert 0 <= t1 < 200 and 0 <= t2 < 200
        gaps.append(abs(t2 - t1))
    gaps = torch.tensor(gaps)
    assert int(gaps.min()) == 5 and int(gaps.max()) == 127  # 4 < |Δt| < 128, both ends reached
    counts = torch.bincount(gaps, minlength=128)[5:128].double()
    assert chisquare(counts.numpy()).pvalue > 1e-3


def test_unsynchronized_sign_is_balanced_and_short_sequences_limit_the_gap():
    generator = torch.Generator().manual_seed(1)
    pairs = [unsynchronized_times(20, 4, 128, generator) for _ in range(2000)]
    assert all(4 < abs(b - a) < 20 for a, b in pairs)
    later = sum(b > a for a, b in pairs)
    assert 900 < later < 1100
    assert list(allowed_offsets(20, 4, 128)) == list(range(5, 20))
    with pytest.raises(ValueError, match="at least 6 frames"):
        unsynchronized_times(5, 4, 128, generator)


def test_view_pairs_are_distinct_and_uniform_over_ordered_pairs():
    generator = torch.Generator().manual_seed(2)
    counts = torch.zeros(4, 4)
    for _ in range(6000):
        first, second = view_pair(4, generator)
        counts[first, second] += 1
    assert counts.diagonal().sum() == 0
    off_diagonal = counts[~torch.eye(4, dtype=torch.bool)]
    assert chisquare(off_diagonal.numpy()).pvalue > 1e-3
