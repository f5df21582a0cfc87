"""Frame and view indices of the image pairs of sec. 6.2.1 (synchronized, unsynchronized, flipped).

Index samplers, like the frame samplers of chapter 5: they choose *which* frames form a pair
before anything is decoded. Randomness comes from a passed ``torch.Generator``.
"""

from __future__ import annotations

import torch

D_MIN = 4
D_MAX = 128
POSITIVE, UNSYNCHRONIZED, FLIPPED = "positive", "unsynchronized", "flipped"
"""The three kinds of pairs of sec. 6.2.1 (x_p, x_n, x_f)."""


def _randint(high: int, generator: torch.Generator | None) -> int:
    return int(torch.randint(high, (1,), generator=generator))


def view_pair(num_views: int, generator: torch.Generator | None = None) -> tuple[int, int]:
    """Two different views ν₁ ≠ ν₂, uniform over ordered pairs (sec. 6.2.1)."""
    if num_views < 2:
        raise ValueError(f"multi-view pairs need at least 2 views, got {num_views}")
    first = _randint(num_views, generator)
    second = (first + 1 + _randint(num_views - 1, generator)) % num_views
    return first, second


def allowed_offsets(num_frames: int, d_min: int = D_MIN, d_max: int = D_MAX) -> range:
    """The gaps |t₂ − t₁| with d_min < |t₂ − t₁| < d_max that fit a sequence of ``num_frames`` frames."""
    return range(d_min + 1, min(d_max, num_frames))


def unsynchronized_times(
    num_frames: int, d_min: int = D_MIN, d_max: int = D_MAX, generator: torch.Generator | None = None
) -> tuple[int, int]:
    """Times (t₁, t₂) of an unsynchronized pair: d_min < |t₂ − t₁| < d_max, the gap uniform (sec. 6.2.1).

    The gap is drawn uniformly among the allowed values that fit the sequence, its sign with
    probability 1/2, then t₁ uniformly among the positions where both frames exist, so the
    gap's distribution is exactly uniform whatever the sequence length.
    """
    gaps = allowed_offsets(num_frames, d_min, d_max)
    if len(gaps) == 0:
        raise ValueError(
            f"a sequence of {num_frames} frames has no gap with {d_min} < |t2 - t1| < {d_max}; "
            f"it needs at least {d_min + 2} frames"
        )
    gap = gaps[_randint(len(gaps), generator)]
    start = _randint(num_frames - gap, generator)
    if _randint(2, generator):
        return start + gap, start
    return start, start + gap
