"""Skeleton mirror map and pinhole camera helpers."""

import torch

from transformrec.functional.camera import intrinsics_matrix, look_at, project, world_to_camera
from transformrec.functional.skeleton import JOINT_NAMES, MIRROR, PARENTS, mirror_pose


def test_mirror_swaps_left_and_right_and_negates_camera_x():
    assert JOINT_NAMES[MIRROR[JOINT_NAMES.index("left_wrist")]] == "right_wrist"
    assert MIRROR[0] == 0 and MIRROR[10] == 10
    pose = torch.randn(2, 17, 3)
    mirrored = mirror_pose(pose)
    assert torch.equal(mirrored[:, 4, 0], -pose[:, 1, 0]) and torch.equal(mirrored[:, 4, 1:], pose[:, 1, 1:])
    assert torch.allclose(mirror_pose(mirrored), pose)
    assert all(PARENTS[j] < j for j in range(1, 17))


def test_mirroring_the_pose_matches_flipping_its_projection():
    k = intrinsics_matrix(50.0, 32, 32)
    pose = torch.randn(17, 3) * 200 + torch.tensor([0.0, 0.0, 3000.0])
    u = project(pose, k)
    u_mirrored = project(mirror_pose(pose - pose[0]) + torch.tensor([-pose[0, 0], pose[0, 1], pose[0, 2]]), k)
    # pixel column u maps to W - u under a horizontal flip; joint j becomes MIRROR[j]
    assert torch.allclose(u_mirrored[:, 0], 32 - u[list(MIRROR), 0], atol=1e-3)
    assert torch.allclose(u_mirrored[:, 1], u[list(MIRROR), 1], atol=1e-3)


def test_look_at_centres_the_target_and_keeps_up_up():
    rotation, translation = look_at(torch.tensor([4000.0, 0.0, 1500.0]), torch.tensor([0.0, 0.0, 900.0]))
    assert torch.allclose(rotation @ rotation.T, torch.eye(3), atol=1e-6)
    assert torch.allclose(torch.linalg.det(rotation), torch.tensor(1.0))
    k = intrinsics_matrix(60.0, 32, 32)
    centre = project(world_to_camera(torch.tensor([0.0, 0.0, 900.0]), rotation, translation), k)
    assert torch.allclose(centre, torch.tensor([16.0, 16.0]), atol=1e-4)
    above = project(world_to_camera(torch.tensor([0.0, 0.0, 1500.0]), rotation, translation), k)
    assert above[1] < 16  # higher in the world = higher in the image (smaller v)
