"""The 17-joint Human3.6M skeleton: joint order, kinematic tree and the left/right mirror map.

Why a module of its own: the procedural renderer, the pose data set and the pose-regression
transfer of sec. 6.2.4 (random horizontal flip of image *and* pose) must agree on which joint
is which. The order is the one used by Human3.6M's 17-joint protocol (root = pelvis).
"""

from __future__ import annotations

import torch

JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "spine",
    "thorax",
    "neck",
    "head",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
)
NUM_JOINTS = len(JOINT_NAMES)
ROOT = 0
PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
"""Parent of every joint (−1 for the root): the bones are ``(PARENTS[j], j)`` for j ≥ 1."""
BONES: tuple[tuple[int, int], ...] = tuple((PARENTS[j], j) for j in range(1, NUM_JOINTS))


def _mirror_map() -> tuple[int, ...]:
    index = {name: i for i, name in enumerate(JOINT_NAMES)}
    swapped = []
    for name in JOINT_NAMES:
        if name.startswith("left_"):
            name = "right_" + name[5:]
        elif name.startswith("right_"):
            name = "left_" + name[6:]
        swapped.append(index[name])
    return tuple(swapped)


MIRROR: tuple[int, ...] = _mirror_map()
"""``MIRROR[j]``: the joint that ``j`` becomes in a mirrored image (left ↔ right)."""


def mirror_pose(pose: torch.Tensor) -> torch.Tensor:
    """The pose seen in a horizontally flipped image, in camera coordinates (``…×17×3``).

    Flipping the image about its centre column mirrors camera x (x → −x, when the principal
    point is the image centre) and turns the person's left limbs into right ones (sec. 6.2.4:
    "random horizontal flipping jointly to the input images, and the corresponding target 3D poses").
    """
    mirrored = pose[..., list(MIRROR), :].clone()
    mirrored[..., 0] = -mirrored[..., 0]
    return mirrored


def bone_lengths(joints: torch.Tensor) -> torch.Tensor:
    """Length of every bone of ``…×17×3`` joints, ``…×16``."""
    parents = torch.tensor([p for p, _ in BONES])
    children = torch.tensor([c for _, c in BONES])
    return (joints[..., children, :] - joints[..., parents, :]).norm(dim=-1)
