"""Per-item seeds: MurmurHash3's finaliser is a bijection and splits never share an item's stream."""

import numpy as np
import pytest
import torch

from transformrec.data.item_seeding import fmix32, item_seed, item_uniforms


def test_fmix32_matches_murmurhash3_reference_values():
    """fmix32(0) = 0 (every step maps 0 to 0); fmix32 of 1 computed with numpy's wrapping uint32 maths."""
    assert fmix32(0) == 0
    with np.errstate(over="ignore"):
        h = np.uint32(1)
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x85EBCA6B)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0xC2B2AE35)
        h ^= h >> np.uint32(16)
    assert fmix32(1) == int(h)


def test_fmix32_is_injective_on_a_block_of_keys():
    values = [fmix32(k) for k in range(1 << 16)]
    assert len(set(values)) == len(values) and max(values) < 2**32


def test_item_seeds_of_different_splits_and_indices_never_collide():
    seeds = {item_seed(5, split, i) for split in ("train", "val", "test") for i in range(3000)}
    assert len(seeds) == 9000


def test_an_item_draws_the_same_numbers_whatever_batch_it_is_read_in():
    alone = item_uniforms(11, "train", [42], 6)
    in_batch = item_uniforms(11, "train", [3, 42, 7], 6)
    torch.testing.assert_close(alone[0], in_batch[1], atol=0, rtol=0)
    assert not torch.equal(item_uniforms(11, "val", [42], 6), alone)
    assert item_uniforms(11, "train", [], 4).shape == (0, 4)


def test_an_unknown_split_is_named():
    with pytest.raises(ValueError, match="'holdout'"):
        item_seed(0, "holdout", 1)
