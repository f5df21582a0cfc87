"""Temporal transforms declare the motion/speed heads of eq. 5.1 and sample clips by the sec. 5.2.1 rules."""

import pytest
import torch

from transformrec.transforms import Periodic, RandomOrder, Speed, TemporalWarp, TransformSet


def test_four_types_on_the_motion_head_and_four_speeds_on_the_speed_head():
    task = TransformSet([Speed(), RandomOrder(), Periodic(), TemporalWarp()])
    assert task.heads == {
        "motion": ["speed", "random", "periodic", "warp"],
        "speed": ["speed0", "speed1", "speed2", "speed3"],
    }


def test_without_the_speed_loss_there_is_no_speed_head():
    task = TransformSet([Speed(speed_loss=False), RandomOrder()])
    assert task.heads == {"motion": ["speed", "random"]}
    indices, extra = task.transforms[0].sample_indices(200, 2, torch.Generator().manual_seed(0))
    assert extra == {} and indices.diff().tolist() == [4] * 15


def test_only_speed_clips_carry_a_speed_target_and_it_is_the_kappa_used():
    generator = torch.Generator().manual_seed(0)
    _, extra = Speed().sample_indices(40, 3, generator)  # 40 frames fit speed 1 at most
    assert extra == {"speed": 1}
    for transform in (RandomOrder(), Periodic(), TemporalWarp()):
        assert transform.sample_indices(200, 3, generator)[1] == {}


def test_periodic_uses_the_shared_kappa_and_warp_and_random_ignore_it():
    generator = torch.Generator().manual_seed(1)
    periodic, _ = Periodic().sample_indices(200, 2, generator)
    assert set(periodic[: int(periodic.argmax()) + 1].diff().tolist()) == {4}
    random, _ = RandomOrder().sample_indices(200, 3, generator)
    assert int(random.max() - random.min()) == 15
    warp, _ = TemporalWarp(max_skip=2).sample_indices(200, 3, generator)
    assert set(warp.diff().tolist()) <= {1, 2, 3}


def test_temporal_transforms_refuse_decoded_batches_with_a_clear_error():
    with pytest.raises(TypeError, match="before decoding"):
        TransformSet([Speed(), RandomOrder()])(torch.zeros(2, 3, 16, 8, 8))
    with pytest.raises(ValueError, match="speeds"):
        Speed(speeds=(1, 2))
