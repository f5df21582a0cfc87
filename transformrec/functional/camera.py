"""Pinhole cameras: world → camera coordinates and projection to pixels.

Convention (OpenCV): a world point X maps to camera coordinates ``R X + t``; the camera looks
along +z, x points right and y down in the image. Pixel ``(u, v)`` has its origin at the
top-left *corner* of the image, so pixel column i covers ``[i, i + 1)`` and a horizontal flip of
a W-wide image maps u → W − u; with the principal point at ``(W/2, H/2)`` that is exactly the
mirror x → −x in camera coordinates (used by the flip augmentation of sec. 6.2.4).
"""

from __future__ import annotations

import torch


def world_to_camera(points: torch.Tensor, rotation: torch.Tensor, translation: torch.Tensor) -> torch.Tensor:
    """``R X + t`` for points ``…×3`` (world coordinates, e.g. millimetres)."""
    return points @ rotation.transpose(-1, -2) + translation


def project(points_camera: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
    """Pixel coordinates ``…×2`` (u right, v down) of camera-frame points ``…×3`` through ``K``."""
    homogeneous = points_camera @ intrinsics.transpose(-1, -2)
    return homogeneous[..., :2] / homogeneous[..., 2:3]


def look_at(position: torch.Tensor, target: torch.Tensor, up: torch.Tensor | None = None):
    """Rotation ``R`` and translation ``t`` of a camera at ``position`` looking at ``target``.

    ``up`` is the world's up direction (default +z); the image's y axis points against it.
    """
    up = torch.tensor([0.0, 0.0, 1.0], dtype=position.dtype) if up is None else up
    forward = target - position
    forward = forward / forward.norm()
    right = torch.linalg.cross(forward, up)
    right = right / right.norm()
    down = torch.linalg.cross(forward, right)
    rotation = torch.stack([right, down, forward])
    return rotation, -rotation @ position


def intrinsics_matrix(focal: float, width: int, height: int) -> torch.Tensor:
    """``K`` with square pixels of focal length ``focal`` (pixels) and the principal point at the centre."""
    return torch.tensor([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
