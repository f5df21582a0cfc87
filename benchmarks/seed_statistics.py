"""Mean ± sd over seeds and paired ordering labels: how every quality table states its claims.

Why paired: two rows run with the same seed share their labelled subset, data order and (for the
random baseline) the initialisation family, so the seed-to-seed noise they share cancels in the
difference. An ordering claimed by the thesis is labelled

  * ``holds``: the mean paired difference is in the claimed direction and larger than 2 sd of the
    paired differences;
  * ``reversed``: it is in the other direction by more than 2 sd;
  * ``within noise``: anything else;
  * ``single seed``: one seed gives no sd, so no label can be earned.

Pass/fail outcomes (a GAN run collapses or not) have no useful sd: most paired differences are 0.
They are counted instead, and :func:`sign_test_p` gives the exact one-sided sign test on the
pairs where exactly one of the two rows failed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

HOLDS, WITHIN_NOISE, REVERSED, SINGLE_SEED = "holds", "within noise", "reversed", "single seed"


def mean_sd(values: Sequence[float]) -> dict[str, float]:
    """``{"mean", "sd", "n"}`` of ``values``; ``sd`` is the sample standard deviation (n − 1), NaN for one value."""
    count = len(values)
    if count == 0:
        raise ValueError("mean_sd needs at least one value")
    mean = sum(values) / count
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (count - 1)) if count > 1 else math.nan
    return {"mean": mean, "sd": sd, "n": count}


def paired_ordering(better: Sequence[float], worse: Sequence[float]) -> dict[str, float | str]:
    """The claim "``better`` > ``worse``" tested on seed-paired values (see the module docstring).

    Returns ``{"mean", "sd", "n", "label"}`` of the differences ``better[i] − worse[i]``.
    """
    if len(better) != len(worse):
        raise ValueError(f"paired values need the same seeds, got {len(better)} and {len(worse)}")
    stats = mean_sd([b - w for b, w in zip(better, worse, strict=True)])
    if stats["n"] < 2:
        label = SINGLE_SEED
    elif stats["mean"] > 2 * stats["sd"]:
        label = HOLDS
    elif stats["mean"] < -2 * stats["sd"]:
        label = REVERSED
    else:
        label = WITHIN_NOISE
    return {**stats, "label": label}


def format_mean_sd(values: Sequence[float], scale: float = 100.0, digits: int = 1) -> str:
    """``"60.1 ± 0.4"`` (``scale`` turns fractions into percent); a single value prints without ``±``."""
    stats = mean_sd(values)
    if stats["n"] < 2:
        return f"{scale * stats['mean']:.{digits}f}"
    return f"{scale * stats['mean']:.{digits}f} ± {scale * stats['sd']:.{digits}f}"


def format_ordering(ordering: dict, scale: float = 100.0, digits: int = 1) -> str:
    """``"+24.8 ± 1.2 (holds)"`` for a :func:`paired_ordering` result."""
    if ordering["n"] == 0:
        return ordering["label"]
    if ordering["n"] < 2:
        return f"{scale * ordering['mean']:+.{digits}f} ({ordering['label']})"
    return f"{scale * ordering['mean']:+.{digits}f} ± {scale * ordering['sd']:.{digits}f} ({ordering['label']})"


def paired_by_seed(better: Sequence[dict], worse: Sequence[dict], value) -> dict[str, float | str]:
    """:func:`paired_ordering` of ``value(run)`` over the seeds both rows have (runs carry ``"seed"``).

    Why: a table built from the runs finished so far may have a row at fewer seeds than another;
    pairing by position would then compare different seeds. A run whose ``value`` is None (a
    measurement it does not have yet) leaves its seed out of the pairing.
    """
    worse_by_seed = {run["seed"]: run for run in worse}
    common = [
        run
        for run in better
        if run["seed"] in worse_by_seed and value(run) is not None and value(worse_by_seed[run["seed"]]) is not None
    ]
    if not common:
        return {"mean": math.nan, "sd": math.nan, "n": 0, "label": "not run"}
    return paired_ordering([value(run) for run in common], [value(worse_by_seed[run["seed"]]) for run in common])


def sign_test_p(wins: int, losses: int) -> float:
    """One-sided exact sign test: P(at least ``wins`` of ``wins + losses`` discordant pairs favour the
    claim | each pair favours either side with probability 1/2). 1.0 when no pair is discordant.

    Why exact: with a handful of discordant pairs the normal approximation (McNemar's χ²) is far off.
    """
    if wins < 0 or losses < 0:
        raise ValueError(f"sign test counts must be >= 0, got {wins} and {losses}")
    total = wins + losses
    return sum(math.comb(total, k) for k in range(wins, total + 1)) / 2**total
