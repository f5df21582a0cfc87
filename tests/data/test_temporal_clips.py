"""TemporalClips: each video under every temporal transform, frames decoded as the samplers ask."""

import pytest
import torch
from test_video_io import binary_counter, read_counter

from transformrec.data.temporal_clips import TemporalClips
from transformrec.data.video_folder import VideoFolder
from transformrec.data.video_io import write_video
from transformrec.transforms import Identity, Periodic, RandomOrder, Speed, TemporalWarp, TransformSet
from transformrec.transforms.base import IGNORE_INDEX


@pytest.fixture(scope="module")
def counters(tmp_path_factory):
    root = tmp_path_factory.mktemp("counters")
    for name, length in (("a", 130), ("b", 40)):
        write_video(root / "cls" / f"{name}.mp4", binary_counter(length), gop=8)
    return VideoFolder(root)


def _frame_numbers(clip):
    return torch.tensor(read_counter((clip * 255).permute(1, 2, 3, 0)))


def test_every_clip_holds_the_frames_its_transform_sampled(counters):
    task = TransformSet([Speed(), RandomOrder(), Periodic(), TemporalWarp()])
    clips_dataset = TemporalClips(counters, task, seed=0, hflip=False)
    for index in range(len(counters)):
        for epoch in range(3):
            clips_dataset.set_epoch(epoch)
            clips, targets = clips_dataset[index]
            assert clips.shape == (4, 3, 16, 32, 32)
            assert targets["motion"].tolist() == [0, 1, 2, 3]
            kappa = int(targets["speed"][0])
            assert targets["speed"][1:].tolist() == [IGNORE_INDEX] * 3
            speed, random, periodic, warp = (_frame_numbers(c) for c in clips)
            assert speed.diff().tolist() == [2**kappa] * 15
            assert sorted(random.tolist()) == list(range(int(random.min()), int(random.min()) + 16))
            turn = int(periodic.argmax())
            assert set(periodic[: turn + 1].diff().tolist()) <= {2**kappa}
            assert (periodic[turn + 1 :].diff() == -(2**kappa)).all()
            assert warp.diff().min() >= 1 and warp.diff().max() <= 8
            assert int(torch.stack([speed, random, periodic, warp]).max()) < counters.num_frames[index]
    assert len(counters) == 2


def test_clips_are_a_function_of_seed_epoch_and_index(counters):
    task = TransformSet([Speed(), TemporalWarp()])
    first, second = TemporalClips(counters, task, seed=3), TemporalClips(counters, task, seed=3)
    assert torch.equal(first[0][0], second[0][0])
    first.set_epoch(1)
    assert not torch.equal(first[0][0], second[0][0])


def test_speed_is_drawn_uniformly_and_limited_by_the_video_length(counters):
    task = TransformSet([Speed()])
    dataset = TemporalClips(counters, task, seed=0, hflip=False)
    long_speeds, short_speeds = [], []
    for epoch in range(40):
        dataset.set_epoch(epoch)
        long_speeds.append(int(dataset[0][1]["speed"][0]))
        short_speeds.append(int(dataset[1][1]["speed"][0]))
    assert set(long_speeds) == {0, 1, 2, 3}  # 130 frames fit speed 3 (121)
    assert set(short_speeds) == {0, 1}  # 40 frames fit speed 1 (31) only


def test_image_transforms_are_rejected(counters):
    with pytest.raises(ValueError, match="temporal transforms only"):
        TemporalClips(counters, TransformSet([Identity()]))
