"""Seed statistics against numpy's sample sd and hand-made orderings that must hold, reverse or tie."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.seed_statistics import (  # noqa: E402
    HOLDS,
    REVERSED,
    SINGLE_SEED,
    WITHIN_NOISE,
    format_mean_sd,
    format_ordering,
    mean_sd,
    paired_by_seed,
    paired_ordering,
    sign_test_p,
)


def test_mean_sd_matches_numpy_sample_statistics():
    values = [0.61, 0.58, 0.66, 0.6]
    stats = mean_sd(values)
    assert math.isclose(stats["mean"], np.mean(values)) and math.isclose(stats["sd"], np.std(values, ddof=1))
    assert stats["n"] == 4 and math.isnan(mean_sd([0.3])["sd"])
    with pytest.raises(ValueError):
        mean_sd([])


def test_pairing_cancels_shared_seed_noise():
    # Seed-to-seed swings of 10 points shared by both rows; the paired gain is a steady +2.
    worse = [0.40, 0.50, 0.30]
    better = [0.42, 0.52, 0.32]
    assert paired_ordering(better, worse)["label"] == HOLDS
    assert paired_ordering(worse, better)["label"] == REVERSED


def test_pairing_by_seed_matches_seeds_and_leaves_out_runs_without_the_value():
    better = [{"seed": 0, "v": 0.50}, {"seed": 1, "v": 0.61}, {"seed": 2, "v": None}, {"seed": 3, "v": 0.70}]
    worse = [{"seed": 3, "v": 0.60}, {"seed": 1, "v": 0.60}, {"seed": 0, "v": 0.46}, {"seed": 2, "v": 0.1}]
    ordering = paired_by_seed(better, worse, lambda run: run["v"])
    differences = [0.04, 0.01, 0.10]  # seeds 0, 1, 3; seed 2 has no value on the better side
    assert ordering["n"] == 3 and math.isclose(ordering["mean"], np.mean(differences))
    assert math.isclose(ordering["sd"], np.std(differences, ddof=1))
    assert paired_by_seed(better[2:3], worse, lambda run: run["v"])["label"] == "not run"


def test_noisy_or_single_seed_differences_earn_no_label():
    assert paired_ordering([0.5, 0.6, 0.4], [0.52, 0.5, 0.45])["label"] == WITHIN_NOISE
    assert paired_ordering([0.9], [0.1])["label"] == SINGLE_SEED
    with pytest.raises(ValueError, match="same seeds"):
        paired_ordering([0.1, 0.2], [0.1])


def test_formatting_shows_percent_points():
    assert format_mean_sd([0.60, 0.62]) == "61.0 ± 1.4"
    assert format_mean_sd([0.6]) == "60.0"
    assert format_ordering(paired_ordering([0.42, 0.52, 0.32], [0.40, 0.50, 0.30])) == "+2.0 ± 0.0 (holds)"


@pytest.mark.parametrize("wins, losses", [(5, 0), (4, 1), (2, 3), (0, 4), (7, 2), (0, 0)])
def test_sign_test_matches_scipy_binomial_test(wins, losses):
    scipy_stats = pytest.importorskip("scipy.stats")
    expected = scipy_stats.binomtest(wins, wins + losses, 0.5, alternative="greater").pvalue if wins + losses else 1.0
    assert math.isclose(sign_test_p(wins, losses), expected, rel_tol=1e-12)
    assert math.isclose(sign_test_p(5, 0), 1 / 32)  # closed form: all five discordant pairs on one side
    with pytest.raises(ValueError):
        sign_test_p(-1, 2)
