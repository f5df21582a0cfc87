"""Per-item random streams for the data sets generated in-process.

Why: a generated item must be a pure function of ``(seed, split, index)`` so that item ``i`` is
identical across calls, DataLoader workers, processes and resolutions, and so that the splits can
never share an item. Each item gets its own ``torch.Generator`` seeded by a bijection of a 32-bit
key built from those three numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

SPLITS = {"train": 0, "val": 1, "test": 2}
_MASK32 = 0xFFFFFFFF


def fmix32(value: int) -> int:
    """MurmurHash3's finaliser: a bijection on 32-bit ints that scatters neighbouring inputs.

    torch's CPU generator only uses the low 32 bits of a seed, so item seeds are built as a
    bijection of a 32-bit key: distinct (split, index) pairs can then never share a stream.
    """
    value &= _MASK32
    value ^= value >> 16
    value = (value * 0x85EBCA6B) & _MASK32
    value ^= value >> 13
    value = (value * 0xC2B2AE35) & _MASK32
    value ^= value >> 16
    return value


def item_seed(seed: int, split: str, index: int) -> int:
    """Seed of item ``index``: injective in ``(split, index)`` for a fixed ``seed``, so splits are disjoint."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    key = len(SPLITS) * index + SPLITS[split] + fmix32(seed ^ (seed >> 32) ^ 0x9E3779B9)
    return fmix32(key)


def item_uniforms(seed: int, split: str, indices: Sequence[int], count: int) -> torch.Tensor:
    """``len(indices)×count`` uniforms in [0, 1), one generator per index (see the module docstring)."""
    rows = []
    for index in indices:
        generator = torch.Generator().manual_seed(item_seed(seed, split, int(index)))
        rows.append(torch.rand(count, generator=generator))
    return torch.stack(rows) if rows else torch.empty(0, count)
