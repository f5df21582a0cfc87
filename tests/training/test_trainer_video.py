"""The Trainer on videos: temporal transforms are sampled by the data set and training resumes exactly."""

import pytest
import torch

from transformrec.backbones import build_backbone
from transformrec.data.procedural_video import write_procedural_videos
from transformrec.data.temporal_clips import TemporalClips
from transformrec.data.video_folder import VideoFolder
from transformrec.training import Trainer


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    write_procedural_videos(root, 6, num_frames=64, size=16)
    return VideoFolder(root, split="train")


def _trainer(videos, out, **kwargs):
    torch.manual_seed(0)
    options = dict(epochs=2, batch_size=2, betas=(0.9, 0.99), device="cpu", progress=False, tensorboard=False)
    options.update(kwargs)
    return Trainer(
        transforms=["speed", "random_order", "periodic", "temporal_warp"],
        backbone=build_backbone("c3d_small", width=0.125),
        data=videos,
        output_dir=out,
        **options,
    )


def test_video_data_is_wrapped_so_each_video_appears_under_all_four_types(videos, tmp_path):
    trainer = _trainer(videos, tmp_path, max_steps=1)
    assert isinstance(trainer.data, TemporalClips)
    assert trainer.transform_set.heads["motion"] == ["speed", "random", "periodic", "warp"]
    summary = trainer.fit()
    assert {"loss/motion", "acc/motion", "loss/speed", "acc/speed"} <= set(summary["final_metrics"])


def test_video_training_resumes_bit_for_bit(videos, tmp_path):
    full = _trainer(videos, tmp_path / "full")
    full.fit()
    _trainer(videos, tmp_path / "cut", max_steps=4, checkpoint_every=1).fit()
    resumed = _trainer(videos, tmp_path / "cut", resume=True)
    assert resumed.fit()["resumed_from_step"] == 4
    for name, tensor in full.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name
