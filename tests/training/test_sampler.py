"""EpochBatchSampler: an epoch is torch.randperm(seed + epoch) cut into global batches, split by rank."""

import pytest
import torch

from transformrec.training.sampler import EpochBatchSampler


def test_one_process_yields_the_seeded_permutation_in_full_batches():
    sampler = EpochBatchSampler(num_samples=23, batch_size=5, seed=7)
    sampler.set_position(epoch=2)
    order = torch.randperm(23, generator=torch.Generator().manual_seed(9)).tolist()
    batches = list(sampler)
    assert len(batches) == len(sampler) == 4  # 23 // 5: the incomplete last batch is dropped
    assert sum(batches, []) == order[:20]


def test_ranks_take_disjoint_slices_that_make_up_each_global_batch():
    world = [EpochBatchSampler(32, 8, seed=1, rank=r, world_size=4) for r in range(4)]
    single = list(EpochBatchSampler(32, 8, seed=1))
    per_rank = [list(s) for s in world]
    for step, global_batch in enumerate(single):
        assert sum((per_rank[r][step] for r in range(4)), []) == global_batch


def test_resume_skips_the_batches_already_seen():
    sampler = EpochBatchSampler(40, 8, seed=0)
    full = list(sampler)
    sampler.set_position(epoch=0, start_batch=3)
    assert list(sampler) == full[3:]


@pytest.mark.parametrize(
    ("samples", "batch", "world", "message"),
    [(40, 10, 3, "divisible by the number of processes 3"), (4, 8, 1, "fewer than one batch of 8")],
)
def test_impossible_layouts_are_refused(samples, batch, world, message):
    with pytest.raises(ValueError, match=message):
        EpochBatchSampler(samples, batch, world_size=world)
