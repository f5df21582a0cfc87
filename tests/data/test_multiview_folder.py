"""The on-disk multi-view layout: calibration, world → camera poses, corrupt files, backgrounds."""

import json
import shutil

import numpy as np
import pytest
import torch

from transformrec.data.multiview_folder import CorruptFrameError, MultiViewFolder, MultiViewPoses
from transformrec.data.procedural_multiview import background_images, write_procedural_multiview
from transformrec.functional.camera import project
from transformrec.functional.subject_crop import centering_rotation, crop_square, subject_box


def test_split_selects_human36m_subjects_and_indexes_every_frame(multiview_root):
    train = MultiViewFolder(multiview_root, split="train")
    assert train.subjects == ["S1", "S5"] and len(train.sequences) == 4
    assert len(train) == 4 * 4 * 24
    image, label = train[len(train) - 1]
    assert image.shape == (3, 16, 16) and label == -1
    assert MultiViewFolder(multiview_root, split="test").subjects == ["S9"]


def test_pose_items_are_root_relative_camera_coordinates_that_project_onto_the_image(multiview_root):
    poses = MultiViewPoses(multiview_root, subjects=["S1"], stride=5)
    sequence, view, t = poses.items[7]
    seq = poses.folder.sequences[sequence]
    world = torch.from_numpy(np.load(seq.path / "joints3d.npy")).double()[t]
    calibration = json.loads((seq.path.parent / "cameras.json").read_text())[seq.cameras[view]]
    r, tr, k = (torch.tensor(calibration[key], dtype=torch.float64) for key in ("R", "t", "K"))
    camera = world @ r.T + tr
    image, pose = poses[7]
    assert torch.allclose(pose.double(), camera - camera[0], atol=1e-3)
    assert torch.equal(pose[0], torch.zeros(3))
    uv = project(camera, k)
    assert ((uv > 0) & (uv < 16)).all()


def test_human36m_conversion_helpers():
    from transformrec.data.multiview_folder import H36M_32_TO_17, human36m_camera, human36m_joints

    positions = np.arange(2 * 96, dtype=np.float64).reshape(2, 96)
    joints = human36m_joints(positions)
    assert joints.shape == (2, 17, 3) and np.array_equal(joints[1, 4], positions[1].reshape(32, 3)[6])
    assert len(set(H36M_32_TO_17)) == 17
    angle = 0.3
    rotation = [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    centre = [1000.0, -2000.0, 1500.0]
    entry = human36m_camera(rotation, centre, [1145.0, 1144.0], [512.5, 515.4])
    r, t = np.array(entry["R"]), np.array(entry["t"])
    point = np.array([10.0, 20.0, 30.0])
    assert np.allclose(r @ point + t, r @ (point - np.array(centre)))  # Human3.6M's R (X − T)
    assert entry["K"] == [[1145.0, 0.0, 512.5], [0.0, 1144.0, 515.4], [0.0, 0.0, 1.0]]


def test_missing_and_corrupt_files_are_skipped_and_named(multiview_root, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(multiview_root, root)
    (root / "S1" / "wave" / "joints3d.npy").unlink()
    (root / "S5" / "walk" / "cam2" / "000003.png").write_bytes(b"not a png")
    folder = MultiViewFolder(root, split="train")
    assert len(folder.sequences) == 3
    assert any("joints3d.npy" in reason for reason in folder.skipped.values())
    index = [i for i, s in enumerate(folder.sequences) if (s.subject, s.action) == ("S5", "walk")][0]
    with pytest.raises(CorruptFrameError, match="000003.png"):
        folder.raw_frame(index, 2, 3)
    poses = MultiViewPoses(root, subjects=["S5"], actions=["walk"])
    bad = poses.items.index((0, 2, 3))
    image, pose = poses[bad]  # replaced by the next readable item
    assert torch.equal(pose, poses.pose(bad + 1)) and any("000003.png" in r for r in poses.skipped.values())


@pytest.fixture(scope="module")
def studio_with_repetitions(tmp_path_factory):
    """S1 doing walk and wave 4 times each: every sequence at its own place in the room (generator v5),
    as a real recording has the subject at many places, which is what a median background needs."""
    root = tmp_path_factory.mktemp("repetitions")
    write_procedural_multiview(root, subjects=("S1",), actions=("walk", "wave"), num_frames=24, size=16, repetitions=4)
    return root


def test_median_background_recovers_the_static_scene_and_removal_keeps_the_figure(studio_with_repetitions):
    folder = MultiViewFolder(studio_with_repetitions, split="train", background="remove", threshold=0.1)
    truth = background_images(16, seed=0)
    sequences = range(len(folder.sequences))
    for view in range(4):
        median = folder.median("S1", f"cam{view}")  # 64 of S1's 192 frames, spread over its 8 sequences
        frames = torch.stack([folder.raw_frame(s, view, t) for s in sequences for t in range(24)])
        covered = ((frames - truth[view]).abs().amax(1) > 0.03).float().mean(0)  # how often the figure is there
        free = covered < 0.4
        assert free.float().mean() > 0.7
        assert ((median - truth[view]).abs().amax(0)[free] < 0.03).all()  # uint8 frames: a few grey levels
    removed = folder.frame(0, 1, 5)
    raw = folder.raw_frame(0, 1, 5)
    figure = (raw - truth[1]).abs().amax(0) > 0.1
    kept = removed.abs().amax(0) > 0
    assert (kept & figure).sum() >= 0.8 * figure.sum()  # most of the person survives (a crude separation, sec. 6.2.2)
    assert (kept & ~figure).sum() <= 0.05 * (~figure).sum()  # the background goes


def test_substitution_pastes_the_figure_over_another_views_background(multiview_root):
    folder = MultiViewFolder(multiview_root, split="train", background="substitute")
    generator = torch.Generator().manual_seed(3)
    image = folder.frame(0, 0, 5, generator)
    medians = torch.stack([folder.median("S1", f"cam{v}") for v in range(4)])
    corner = image[:, :3, :3]
    assert min(float((corner - m[:, :3, :3]).abs().max()) for m in medians) < 1e-6
    with pytest.raises(ValueError, match="background"):
        MultiViewFolder(multiview_root, background="blur")


def test_subject_crops_hold_the_figure_and_poses_are_in_the_virtual_camera(multiview_root):
    full = MultiViewPoses(multiview_root, subjects=["S1"], stride=6)
    cropped = MultiViewPoses(multiview_root, subjects=["S1"], stride=6, crop="subject", image_size=24)
    backgrounds = background_images(16)  # the studio's true static backgrounds, one per camera
    assert len(full) == len(cropped)
    for index in range(0, len(full), 3):
        sequence, view, t = cropped.items[index]
        seq = cropped.folder.sequences[sequence]
        image, pose = cropped[index]
        assert image.shape == (3, 24, 24)
        # The target is the camera pose turned by the rotation that centres the root, bone lengths kept.
        joints = seq.joints_camera(view, t)
        root_direction = centering_rotation(joints[0]) @ joints[0]
        assert abs(float(root_direction[0])) < 1e-6 and abs(float(root_direction[1])) < 1e-6
        turned = (joints - joints[0]) @ centering_rotation(joints[0]).T
        torch.testing.assert_close(pose.double(), turned, atol=1e-3, rtol=0)
        assert (pose - full.pose(index)).abs().max() > 1.0  # the virtual camera is turned: not the camera pose
        # Every joint lies inside the crop, and the torso joints, mapped into it, land on figure pixels.
        uv = project(joints, seq.intrinsics[view])
        u, v, half = subject_box(uv, 0, cropped.folder.crop_margin)
        assert (uv - torch.tensor([u, v])).abs().max() <= half
        background = crop_square(backgrounds[int(seq.cameras[view][3:])], u, v, half, 24)
        figure = (image - background).abs().amax(0) > 0.05
        inside = ((uv - torch.tensor([u - half, v - half])) * (24 / (2 * half))).long().clamp(0, 23)
        assert figure[inside[[0, 7, 8], 1], inside[[0, 7, 8], 0]].all()


def test_crop_mode_and_margin_are_checked_by_name(multiview_root):
    with pytest.raises(ValueError, match="crop must be one of"):
        MultiViewFolder(multiview_root, crop="centre")
    with pytest.raises(ValueError, match="crop_margin"):
        MultiViewFolder(multiview_root, crop="subject", crop_margin=-1)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("nan_joints", "non-finite (NaN or infinite)"),
        ("zero_k", "has a singular K"),
        ("list_calibration", "must map camera names to {K, R, t}, got list"),
        ("text_k", "K, R or t that is not a numeric array"),
        ("no_rotation", "R that is not a rotation"),
    ],
)
def test_silently_wrong_poses_and_calibrations_are_refused_at_scan_time_naming_the_file(
    multiview_root, tmp_path, damage, reason
):
    root = tmp_path / "copy"
    shutil.copytree(multiview_root, root)
    action = root / "S1" / "walk"
    cameras_path = root / "S1" / "cameras.json"
    cameras = json.loads(cameras_path.read_text())
    if damage == "nan_joints":
        joints = np.load(action / "joints3d.npy")
        joints[3, 5, 1] = np.nan
        np.save(action / "joints3d.npy", joints)
    elif damage == "zero_k":
        cameras["cam1"]["K"] = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
    elif damage == "list_calibration":
        cameras = [cameras["cam0"]]
    elif damage == "text_k":
        cameras["cam0"]["K"] = "identity"
    elif damage == "no_rotation":
        cameras["cam2"]["R"] = [[2, 0, 0], [0, 1, 0], [0, 0, 1]]
    if damage != "nan_joints":
        cameras_path.write_text(json.dumps(cameras))
    folder = MultiViewFolder(root, split="train")  # S5's sequences stay readable
    skipped = folder.skipped.get(str(action), "")
    assert reason in skipped and (str(cameras_path) in skipped or "joints3d.npy" in skipped), folder.skipped
