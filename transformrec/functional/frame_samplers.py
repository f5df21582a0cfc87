"""Frame-index sequences of the temporal transformations of sec. 5.2.1 (speed, random, periodic, warp).

A temporal transformation of a video is a choice of frame indices, made *before* decoding so
only the frames needed are decoded. These are pure functions of their parameters (κ, the
switch point s, the skips, the start ρ); the samplers at the bottom draw those parameters from a
``torch.Generator`` and respect the length of the video (sec. 5.2.3: for a video too short for a
speed, κ is limited to the largest speed that fits).
"""

from __future__ import annotations

import torch

CLIP_LENGTH = 16
SPEEDS = (0, 1, 2, 3)
MAX_WARP_SKIP = 7


def speed_indices(kappa: int, start: int = 0, length: int = CLIP_LENGTH) -> torch.Tensor:
    """V⁰_κ = ρ + [0, 1·2^κ, …, 15·2^κ]: every 2^κ-th frame, i.e. 2^κ − 1 frames skipped (τ = 0)."""
    return start + torch.arange(length) * 2**kappa


def speed_span(kappa: int, length: int = CLIP_LENGTH) -> int:
    """Frames a speed-κ clip covers: (length − 1)·2^κ + 1."""
    return (length - 1) * 2**kappa + 1


def random_indices(permutation: torch.Tensor, start: int = 0) -> torch.Tensor:
    """V¹₀ = ρ + permutation([0, …, 15]) (τ = 1, κ fixed to 0)."""
    return start + permutation


def periodic_indices(kappa: int, switch: int, length: int = CLIP_LENGTH) -> torch.Tensor:
    """V²_κ (τ = 2): forward to the switch point s, then backward, sub-sampled by 2^κ.

    With s̄ = ⌊s / 2^κ⌋, δ = s − s̄·2^κ and ρ = max(0, (15 − 2s̄)·2^κ − δ), the sequence is
    ρ + [0, 2^κ, …, s̄·2^κ, (s̄ − 1)·2^κ + δ, …, (2s̄ − 15)·2^κ + δ]; s must satisfy
    2·2^κ < s < 13·2^κ. ρ is the shift that makes the smallest index 0.
    """
    step = 2**kappa
    if not 2 * step < switch < 13 * step:
        raise ValueError(f"periodic switch point must satisfy 2·2^κ < s < 13·2^κ = {13 * step}, got s={switch}")
    s_bar, delta = switch // step, switch % step
    last = length - 1
    rho = max(0, (last - 2 * s_bar) * step - delta)
    forward = torch.arange(s_bar + 1) * step
    backward = torch.arange(s_bar - 1, 2 * s_bar - last - 1, -1) * step + delta
    return rho + torch.cat([forward, backward])


def warp_indices(skips: torch.Tensor, start: int = 0) -> torch.Tensor:
    """V³₀ = ρ + [0, d₁, d₁ + d₂, …]: ordered frames with independent gaps (τ = 3).

    ``skips`` are the numbers of frames skipped between consecutive clip frames (the thesis
    draws them from {0, …, 7}), so each gap is dⱼ = sⱼ + 1 frames: skipping 0 frames means
    the next frame, as for speed 0. (The thesis's formula writes the gaps as sⱼ themselves,
    which would repeat a frame whenever sⱼ = 0; the text's "skipped frames" reading is used.)
    """
    gaps = skips.long() + 1
    return start + torch.cat([torch.zeros(1, dtype=torch.long), gaps.cumsum(0)])


# --------------------------------------------------------------------------- samplers


def max_speed(num_frames: int, length: int = CLIP_LENGTH, speeds: tuple[int, ...] = SPEEDS) -> int:
    """The largest κ whose clip fits in the video (sec. 5.2.3); raises if not even speed 0 fits."""
    fitting = [k for k in speeds if speed_span(k, length) <= num_frames]
    if not fitting:
        raise ValueError(f"a video of {num_frames} frames is shorter than one {length}-frame clip")
    return max(fitting)


def _start(num_frames: int, span: int, generator: torch.Generator | None) -> int:
    return int(torch.randint(num_frames - span + 1, (1,), generator=generator))


def sample_speed(
    num_frames: int, kappa: int, generator: torch.Generator | None = None, length: int = CLIP_LENGTH
) -> tuple[torch.Tensor, int]:
    """Speed-κ clip at a uniform start; κ is limited to :func:`max_speed`. Returns (indices, κ used)."""
    kappa = min(kappa, max_speed(num_frames, length))
    return speed_indices(kappa, _start(num_frames, speed_span(kappa, length), generator), length), kappa


def sample_random(num_frames: int, generator: torch.Generator | None = None, length: int = CLIP_LENGTH) -> torch.Tensor:
    """A permutation of ``length`` consecutive frames at a uniform start."""
    max_speed(num_frames, length)
    return random_indices(torch.randperm(length, generator=generator), _start(num_frames, length, generator))


def sample_periodic(
    num_frames: int, kappa: int, generator: torch.Generator | None = None, length: int = CLIP_LENGTH
) -> tuple[torch.Tensor, int]:
    """Periodic clip with s uniform in (2·2^κ, 13·2^κ); κ limited to what the video allows.

    The clip as written starts at ρ; it is moved by a uniform offset within the video so
    every part of a long video can be sampled (the offset does not change the index pattern).
    Its span never exceeds the speed-κ span, so a κ that fits a speed clip fits this one.
    """
    kappa = min(kappa, max_speed(num_frames, length))
    step = 2**kappa
    switch = int(torch.randint(2 * step + 1, 13 * step, (1,), generator=generator))
    indices = periodic_indices(kappa, switch, length)
    return indices + _start(num_frames, int(indices.max()) + 1, generator), kappa


def sample_warp(
    num_frames: int,
    generator: torch.Generator | None = None,
    length: int = CLIP_LENGTH,
    max_skip: int = MAX_WARP_SKIP,
) -> torch.Tensor:
    """Warp clip: skips uniform in {0, …, max_skip}, capped so the clip fits in short videos."""
    max_speed(num_frames, length)
    fitting_skip = min(max_skip, (num_frames - 1) // (length - 1) - 1)
    skips = torch.randint(fitting_skip + 1, (length - 1,), generator=generator)
    indices = warp_indices(skips)
    return indices + _start(num_frames, int(indices[-1]) + 1, generator)
