"""Frame-index sequences of sec. 5.2.1 against hand-written sequences, bounds and order properties."""

import pytest
import torch
from scipy.stats import chisquare

from transformrec.functional.frame_samplers import (
    max_speed,
    periodic_indices,
    random_indices,
    sample_periodic,
    sample_random,
    sample_speed,
    sample_warp,
    speed_indices,
    warp_indices,
)


def test_speed_skips_two_to_the_kappa_minus_one_frames():
    assert speed_indices(0, start=3).tolist() == list(range(3, 19))
    assert speed_indices(2).tolist() == [4 * i for i in range(16)]  # 3 frames skipped each time
    assert speed_indices(3, start=1)[-1] == 1 + 15 * 8


def test_random_is_a_permutation_of_consecutive_frames():
    permutation = torch.tensor([3, 0, 15, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
    assert random_indices(permutation, start=10).tolist() == [10 + p for p in permutation.tolist()]


def test_periodic_matches_hand_computed_sequences():
    # κ = 0, s = 5: s̄ = 5, δ = 0, ρ = 5: forward 0..5, backward 4..−5, shifted by 5.
    assert periodic_indices(0, 5).tolist() == [5, 6, 7, 8, 9, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    # κ = 1, s = 7: s̄ = 3, δ = 1, ρ = (15 − 6)·2 − 1 = 17.
    assert periodic_indices(1, 7).tolist() == [17, 19, 21, 23, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0]
    # κ = 0, s = 12: s̄ = 12, ρ = max(0, −9) = 0: the backward part stops at 2·12 − 15 = 9.
    assert periodic_indices(0, 12).tolist() == list(range(13)) + [11, 10, 9]


@pytest.mark.parametrize("kappa", [0, 1, 2, 3])
def test_periodic_goes_forward_then_backward_for_every_switch_point(kappa):
    step = 2**kappa
    for switch in range(2 * step + 1, 13 * step):
        indices = periodic_indices(kappa, switch)
        turn = int(indices.argmax())
        assert len(indices) == 16 and int(indices.min()) >= 0
        assert (indices[: turn + 1].diff() == step).all()  # forward at speed κ
        assert int(indices[turn + 1] - indices[turn]) == switch % step - step  # the turn shifts by δ
        assert (indices[turn + 1 :].diff() == -step).all()  # then backward at speed κ
        assert int(indices.max()) + 1 <= 15 * step + 1  # never longer than a speed-κ clip
    with pytest.raises(ValueError, match="switch point"):
        periodic_indices(kappa, 2 * step)


def test_warp_gaps_are_skips_plus_one_and_keep_the_order():
    skips = torch.tensor([0, 7, 3, 0, 1, 2, 5, 6, 4, 0, 0, 1, 7, 2, 3])
    indices = warp_indices(skips, start=2)
    assert indices[0] == 2 and len(indices) == 16
    assert indices.diff().tolist() == [s + 1 for s in skips.tolist()]


def test_too_short_videos_limit_the_speed_to_the_largest_that_fits():
    assert max_speed(16) == 0 and max_speed(31) == 1 and max_speed(60) == 1 and max_speed(61) == 2
    indices, kappa = sample_speed(40, 3, torch.Generator().manual_seed(0))
    assert kappa == 1 and int(indices.max()) < 40
    with pytest.raises(ValueError, match="shorter than one 16-frame clip"):
        max_speed(15)


@pytest.mark.parametrize("num_frames", [16, 17, 40, 130, 500])
def test_every_sampler_stays_inside_the_video(num_frames):
    generator = torch.Generator().manual_seed(num_frames)
    for _ in range(50):
        speed, _ = sample_speed(num_frames, 3, generator)
        periodic, _ = sample_periodic(num_frames, 3, generator)
        for indices in (speed, sample_random(num_frames, generator), periodic, sample_warp(num_frames, generator)):
            assert len(indices) == 16 and int(indices.min()) >= 0 and int(indices.max()) < num_frames


def test_random_clips_hold_sixteen_distinct_consecutive_frames():
    indices = sample_random(100, torch.Generator().manual_seed(0))
    assert sorted(indices.tolist()) == list(range(int(indices.min()), int(indices.min()) + 16))
    assert indices.tolist() != sorted(indices.tolist())


def test_warp_skips_cover_zero_to_seven_uniformly_in_long_videos():
    generator = torch.Generator().manual_seed(0)
    gaps = torch.cat([sample_warp(500, generator).diff() for _ in range(400)])
    counts = torch.bincount(gaps - 1, minlength=8)
    assert len(counts) == 8 and chisquare(counts.numpy()).pvalue > 1e-3


def test_speed_clip_starts_are_uniform_over_the_valid_range():
    generator = torch.Generator().manual_seed(0)
    starts = torch.tensor([int(sample_speed(20, 0, generator)[0][0]) for _ in range(2500)])
    counts = torch.bincount(starts, minlength=5)
    assert len(counts) == 5 and chisquare(counts.numpy()).pvalue > 1e-3
