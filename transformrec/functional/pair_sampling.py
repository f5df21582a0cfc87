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


def partners(anchor: int, num_frames: int, d_min: int = D_MIN, d_max: int = D_MAX) -> list[int]:
    """The frames t with d_min < |t − anchor| < d_max inside a sequence of ``num_frames`` frames."""
    return [t for t in range(num_frames) if d_min < abs(t - anchor) < d_max]


def min_frames_for_every_anchor(d_min: int = D_MIN) -> int:
    """The shortest sequence in which every frame has an unsynchronized partner: 2·d_min + 3
    (the middle frame needs a frame more than d_min away on one side)."""
    return 2 * d_min + 3


def unsynchronized_times(
    anchor: int, num_frames: int, d_min: int = D_MIN, d_max: int = D_MAX, generator: torch.Generator | None = None
) -> tuple[int, int]:
    """Times (t₁, t₂) of an unsynchronized pair around ``anchor``: d_min < |t₂ − t₁| < d_max (sec. 6.2.1).

    One time is the anchor, the other uniform among the anchor's partners (:func:`partners`), and
    which of the two comes first is a coin flip. Why relative to the anchor: anchors are uniform
    over a sequence's frames, as are both frames of a synchronized pair. Drawing the gap first and
    then a start where both frames fit (the earlier sampler) over-represents the frames at the
    sequence's ends (2.7× at 96 frames), so one frame's index alone told synchronized from
    unsynchronized pairs at 0.576 (a cue a network can use on memorised sequences). Here the
    anchor's frame carries no such cue and the partner's only a small one
    (:func:`single_frame_time_cue` measures it exactly). "Sample uniformly within this range"
    (sec. 6.2.1) is read as uniform over the partners, so near a sequence's end the gaps are not
    exactly uniform.
    """
    if num_frames < min_frames_for_every_anchor(d_min):
        raise ValueError(
            f"a sequence of {num_frames} frames has frames without a partner d_min = {d_min} < |t2 - t1| < {d_max} "
            f"away; unsynchronized pairs need at least {min_frames_for_every_anchor(d_min)} frames"
        )
    if not 0 <= anchor < num_frames:
        raise ValueError(f"anchor frame {anchor} is outside a sequence of {num_frames} frames")
    candidates = partners(anchor, num_frames, d_min, d_max)
    partner = candidates[_randint(len(candidates), generator)]
    if _randint(2, generator):
        return partner, anchor
    return anchor, partner


def _unsynchronized_frame_distribution(num_frames: int, d_min: int, d_max: int) -> list[float]:
    """P(t) of either frame of an unsynchronized pair from :func:`unsynchronized_times`, anchors uniform."""
    probability = [0.5 / num_frames] * num_frames  # the slot holds the anchor half of the time
    for anchor in range(num_frames):
        candidates = partners(anchor, num_frames, d_min, d_max)
        for t in candidates:
            probability[t] += 0.5 / (num_frames * len(candidates))
    return probability


def single_frame_time_cue(num_frames: int, d_min: int = D_MIN, d_max: int = D_MAX) -> float:
    """Bayes accuracy of telling synchronized from unsynchronized pairs (equal priors) from the frame
    index of one frame of the pair, exactly: 0.5 is no cue. A synchronized pair's frames are uniform
    over the sequence; an unsynchronized pair's follow :func:`unsynchronized_times`."""
    unsynchronized = _unsynchronized_frame_distribution(num_frames, d_min, d_max)
    return 0.5 * sum(max(1 / num_frames, p) for p in unsynchronized)
