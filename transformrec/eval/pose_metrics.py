"""3D pose errors of sec. 6.3: MPJPE, NMPJPE (scale-aligned) and PMPJPE (Procrustes-aligned).

Poses are ``N×J×3`` (J = 17), root-relative, in mm. The root joint is fixed to zero, so only
J − 1 joints are really predicted; following sec. 6.2.4 ("we correct this in evaluation metrics
by scaling the per-joint errors by 17/16") every metric multiplies its per-joint mean by
J / (J − 1) when ``root_fixed`` (the default). For MPJPE and NMPJPE that equals the mean over
the 16 non-root joints exactly (the root's error is 0); for PMPJPE, whose similarity
alignment moves the root too, it is the same factor applied as the thesis states.
"""

from __future__ import annotations

import torch


def _per_joint_mean(errors: torch.Tensor, root_fixed: bool) -> float:
    joints = errors.shape[-1]
    factor = joints / (joints - 1) if root_fixed else 1.0
    return float(errors.mean()) * factor


def mpjpe(predicted: torch.Tensor, target: torch.Tensor, root_fixed: bool = True) -> float:
    """Mean per-joint position error: mean Euclidean distance between predicted and true joints."""
    return _per_joint_mean((predicted.double() - target.double()).norm(dim=-1), root_fixed)


def scale_align(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``s·predicted`` with the least-squares scale per pose, s = ⟨p, g⟩ / ⟨p, p⟩ (NMPJPE, Rhodin et al.)."""
    p, g = predicted.double(), target.double()
    scale = (p * g).sum(dim=(-2, -1), keepdim=True) / (p * p).sum(dim=(-2, -1), keepdim=True).clamp_min(1e-12)
    return scale * p


def nmpjpe(predicted: torch.Tensor, target: torch.Tensor, root_fixed: bool = True) -> float:
    """MPJPE after aligning each predicted pose's scale to the ground truth in the least-squares sense."""
    return mpjpe(scale_align(predicted, target), target, root_fixed)


def procrustes_align(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``s·R·p + t`` minimising the squared error to ``target`` per pose (rotation, no reflection).

    Orthogonal Procrustes on the centred, norm-scaled poses: H = Gᵀ P, H = U S Vᵀ,
    R = V Uᵀ with the last singular direction flipped when det R < 0, s = tr(S)·‖G‖/‖P‖ with
    the reflection-corrected S. Batched, in float64.
    """
    p, g = predicted.double(), target.double()
    mean_p, mean_g = p.mean(dim=-2, keepdim=True), g.mean(dim=-2, keepdim=True)
    p0, g0 = p - mean_p, g - mean_g
    norm_p = p0.norm(dim=(-2, -1), keepdim=True).clamp_min(1e-12)
    norm_g = g0.norm(dim=(-2, -1), keepdim=True).clamp_min(1e-12)
    p0, g0 = p0 / norm_p, g0 / norm_g
    u, singular, vh = torch.linalg.svd(g0.transpose(-1, -2) @ p0)
    v = vh.transpose(-1, -2)
    sign = torch.sign(torch.linalg.det(v @ u.transpose(-1, -2)))
    sign = torch.where(sign == 0, torch.ones_like(sign), sign)
    v = torch.cat([v[..., :, :2], v[..., :, 2:] * sign[..., None, None]], dim=-1)
    singular = torch.cat([singular[..., :2], singular[..., 2:] * sign[..., None]], dim=-1)
    rotation = v @ u.transpose(-1, -2)  # acts on row vectors: p0 @ rotation ≈ g0
    scale = singular.sum(-1)[..., None, None] * norm_g / norm_p
    return scale * (p - mean_p) @ rotation + mean_g


def pmpjpe(predicted: torch.Tensor, target: torch.Tensor, root_fixed: bool = True) -> float:
    """MPJPE after Procrustes alignment (translation, rotation and scale) of every predicted pose."""
    return mpjpe(procrustes_align(predicted, target), target, root_fixed)


POSE_ERRORS = ("mpjpe", "nmpjpe", "pmpjpe")
"""The keys of :func:`pose_errors`, in the order tables 6.1 and 6.2 print them."""


def pose_errors(predicted: torch.Tensor, target: torch.Tensor, root_fixed: bool = True) -> dict[str, float]:
    """The three metrics of tables 6.1 and 6.2, in the poses' unit (mm)."""
    return {
        "mpjpe": mpjpe(predicted, target, root_fixed),
        "nmpjpe": nmpjpe(predicted, target, root_fixed),
        "pmpjpe": pmpjpe(predicted, target, root_fixed),
    }


def format_pose_errors(errors: dict[str, float]) -> str:
    """``MPJPE 85.6  NMPJPE 69.9  PMPJPE 60.1``: one result line of a pose-transfer evaluation."""
    return "  ".join(f"{name.upper()} {errors[name]:.1f}" for name in POSE_ERRORS)


def yaw_aligned_distance(first: torch.Tensor, second: torch.Tensor, up_axis: int = 2) -> torch.Tensor:
    """Mean per-joint distance of ``N×J×3`` world poses after turning ``first`` about the vertical
    axis through its root (joint 0) onto ``second``: how much two instants differ beyond the body's
    rotation. Returns ``N`` distances in the poses' unit.

    Why: an unsynchronized pair whose poses differ only by a turn of the whole body (``turn`` with
    fixed arms) is a pair a network can only tell by orientation; this counts how many such pairs
    a pretext's data has. The yaw is the least-squares one, in closed form:
    θ = atan2(Σ (a_x b_y − a_y b_x), Σ (a_x b_x + a_y b_y)) over root-relative horizontal coordinates.
    """
    a = first.double() - first[..., :1, :].double()
    b = second.double() - second[..., :1, :].double()
    horizontal = [axis for axis in range(3) if axis != up_axis]
    ax, ay = a[..., horizontal[0]], a[..., horizontal[1]]
    bx, by = b[..., horizontal[0]], b[..., horizontal[1]]
    theta = torch.atan2((ax * by - ay * bx).sum(-1), (ax * bx + ay * by).sum(-1))[..., None]
    cos, sin = torch.cos(theta), torch.sin(theta)
    turned = a.clone()
    turned[..., horizontal[0]] = cos * ax - sin * ay
    turned[..., horizontal[1]] = sin * ax + cos * ay
    return (turned - b).norm(dim=-1).mean(-1)
