"""Procedural motion videos: each class follows its physical law; files decode to what was rendered."""

import math

import pytest
import torch

from transformrec.data.procedural_video import MOTIONS, motion_path, render_video, write_procedural_videos
from transformrec.data.video_folder import VideoFolder


def _path(motion, seed=0, frames=200):
    return motion_path(motion, frames, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("seed", range(5))
def test_orbit_keeps_a_constant_radius_and_angular_speed(seed):
    centres = _path("orbit", seed) - 0.5
    radius = centres.norm(dim=1)
    assert torch.allclose(radius, radius[0].expand_as(radius), atol=1e-5)
    angles = torch.atan2(centres[:, 1], centres[:, 0])
    steps = torch.remainder(angles.diff() + math.pi, 2 * math.pi) - math.pi
    assert torch.allclose(steps, steps[0].expand_as(steps), atol=1e-4)


@pytest.mark.parametrize("seed", range(5))
def test_pendulum_keeps_its_rod_length_from_the_pivot(seed):
    rod = (_path("pendulum", seed) - torch.tensor([0.5, 0.15])).norm(dim=1)
    assert torch.allclose(rod, rod[0].expand_as(rod), atol=1e-5) and 0.35 <= float(rod[0]) <= 0.5


@pytest.mark.parametrize("seed", range(5))
def test_gravity_has_constant_downward_acceleration_between_bounces(seed):
    y = _path("gravity", seed)[:, 1].double()
    acceleration = y[2:] - 2 * y[1:-1] + y[:-2]
    typical = acceleration.median()
    assert typical > 0  # y points down: falling speeds up, rising slows down
    away_from_bounces = (acceleration - typical).abs() < 1e-6
    assert away_from_bounces.float().mean() > 0.8 and float(y.max()) <= 0.8 + 1e-6


@pytest.mark.parametrize("seed", range(5))
def test_linear_motion_moves_at_constant_speed_inside_the_walls(seed):
    centres = _path("linear", seed)
    speed = centres.diff(dim=0).abs()
    assert float(centres.min()) >= 0.2 - 1e-6 and float(centres.max()) <= 0.8 + 1e-6
    for axis in range(2):
        assert (speed[:, axis] - speed[:, axis].median()).abs().lt(1e-5).float().mean() > 0.9


def test_spring_oscillation_decays():
    offsets = (_path("spring", 1, 400) - 0.5).norm(dim=1)
    assert offsets[300:].max() < offsets[:100].max()


def test_rendered_frames_move_a_sprite_over_a_static_background():
    generator = torch.Generator().manual_seed(3)
    frames = render_video("linear", 12, 64, generator)
    assert frames.shape == (12, 64, 64, 3) and frames.dtype == torch.uint8
    changed = (frames[1:].float() - frames[:-1].float()).abs().sum(-1) > 0
    assert changed.flatten(1).any(1).float().mean() > 0.5  # the sprite moves ...
    assert changed.float().mean() < 0.2  # ... over a static background
    rows, cols = changed.any(0).nonzero(as_tuple=True)  # the region swept by a 16 px sprite in 12 frames
    assert 16 <= int(rows.max() - rows.min()) + 1 < 64 or 16 <= int(cols.max() - cols.min()) + 1 < 64


def test_written_videos_are_balanced_readable_and_deterministic(tmp_path):
    paths = write_procedural_videos(tmp_path / "a", 10, num_frames=40, size=32)
    again = write_procedural_videos(tmp_path / "b", 10, num_frames=40, size=32)
    folder = VideoFolder(tmp_path / "a", split="train", speed=0)
    assert folder.class_names == sorted(MOTIONS) and len(folder) == 10
    assert torch.bincount(folder.labels).tolist() == [2] * 5
    clip, label = folder[0]
    assert clip.shape == (3, 16, 32, 32) and float(clip.min()) >= 0 and float(clip.max()) <= 1
    assert folder.class_names[label] == folder.files[0].parent.name
    other = VideoFolder(tmp_path / "b", split="train", speed=0)
    assert torch.equal(folder[3][0], other[3][0])  # same seed, same bytes, same decoded clip
    assert [p.name for p in paths] == [p.name for p in again]
