"""MPJPE / NMPJPE / PMPJPE: hand-computed cases and scipy's Procrustes."""

import numpy as np
import pytest
import torch
from scipy.linalg import orthogonal_procrustes
from scipy.spatial import procrustes
from scipy.spatial.transform import Rotation

from transformrec.eval.pose_metrics import mpjpe, nmpjpe, pmpjpe, procrustes_align, scale_align, yaw_aligned_distance


def _pose(seed: int) -> torch.Tensor:
    pose = torch.randn(17, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 250
    return pose - pose[0]  # root-relative


def test_mpjpe_hand_computed_with_the_17_16_correction():
    target = _pose(0)[None]
    shifted = target.clone()
    shifted[:, 1:] += torch.tensor([3.0, 4.0, 0.0], dtype=torch.float64)  # every non-root joint 5 mm off
    assert mpjpe(shifted, target) == pytest.approx(5.0)  # 16·5/17 × 17/16
    assert mpjpe(shifted, target, root_fixed=False) == pytest.approx(16 * 5 / 17)
    two = torch.cat([shifted, target])  # errors 5 and 0 → mean 2.5
    assert mpjpe(two, torch.cat([target, target])) == pytest.approx(2.5)


def test_nmpjpe_removes_scale_only():
    target = _pose(1)[None]
    assert nmpjpe(2.5 * target, target) == pytest.approx(0.0, abs=1e-9)
    p, g = _pose(2), _pose(3)
    s = float((p * g).sum() / (p * p).sum())  # least-squares scale, by hand
    assert torch.allclose(scale_align(p[None], g[None])[0], s * p)
    assert nmpjpe(p[None], g[None]) == pytest.approx(float((s * p - g).norm(dim=-1).mean()) * 17 / 16)
    rotated = target @ torch.from_numpy(Rotation.from_euler("z", 30, degrees=True).as_matrix()).T
    assert nmpjpe(rotated, target) > 1.0  # a rotation is not forgiven


def test_procrustes_alignment_matches_scipy():
    rng = np.random.default_rng(0)
    for seed in range(5):
        g = _pose(seed)
        rotation = torch.from_numpy(Rotation.random(random_state=seed).as_matrix())
        p = 0.8 * g @ rotation.T + torch.tensor([30.0, -20.0, 5.0], dtype=torch.float64)
        p = p + torch.from_numpy(rng.normal(0, 15, (17, 3)))
        aligned = procrustes_align(p[None], g[None])[0]
        standard_g, standard_p, disparity = procrustes(g.numpy(), p.numpy())
        g0 = g - g.mean(0)
        ours = ((aligned - g.mean(0)) / g0.norm()).numpy()
        assert np.allclose(ours, standard_p, atol=1e-9)
        assert float(((ours - standard_g) ** 2).sum()) == pytest.approx(disparity)
        p0 = p - p.mean(0)
        r, _ = orthogonal_procrustes(p0.numpy(), g0.numpy())
        s = float(np.trace(g0.numpy().T @ p0.numpy() @ r) / (p0**2).sum())
        by_scipy = s * p0.numpy() @ r + g.mean(0).numpy()
        assert np.allclose(aligned.numpy(), by_scipy, atol=1e-8)
        expected = np.linalg.norm(by_scipy - g.numpy(), axis=-1).mean() * 17 / 16
        assert pmpjpe(p[None], g[None]) == pytest.approx(expected)


def test_pmpjpe_forgives_similarity_but_not_reflection():
    g = _pose(7)[None]
    rotation = torch.from_numpy(Rotation.random(random_state=3).as_matrix())
    moved = 1.7 * g @ rotation.T + 100.0
    assert pmpjpe(moved, g) == pytest.approx(0.0, abs=1e-8)
    mirrored = g * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    assert pmpjpe(mirrored, g) > 1.0  # proper rotations only, unlike scipy's orthogonal Procrustes


def test_a_pose_turned_about_the_vertical_and_moved_is_at_distance_zero():
    rng = np.random.default_rng(0)
    pose = torch.from_numpy(rng.normal(0, 300, (5, 17, 3)))
    turned = torch.from_numpy(
        np.stack(
            [
                Rotation.from_euler("z", angle).apply(p.numpy())
                for angle, p in zip(rng.uniform(-3, 3, 5), pose, strict=True)
            ]
        )
    )
    moved = turned + torch.tensor([400.0, -250.0, 30.0])
    assert torch.allclose(yaw_aligned_distance(pose, moved), torch.zeros(5, dtype=torch.float64), atol=1e-6)


def test_yaw_alignment_cannot_undo_a_tilt_and_matches_a_brute_force_search():
    """A pose tilted about a horizontal axis keeps a distance; the closed-form yaw beats a 0.1° grid."""
    rng = np.random.default_rng(1)
    pose = rng.normal(0, 300, (17, 3))
    pose -= pose[0]
    other = Rotation.from_euler("x", 0.4).apply(pose) + rng.normal(0, 20, (17, 3))
    distance = float(yaw_aligned_distance(torch.from_numpy(pose)[None], torch.from_numpy(other)[None]))
    other_rel = other - other[0]
    grid = [
        np.mean((Rotation.from_euler("z", a).apply(pose) - other_rel) ** 2)
        for a in np.radians(np.arange(-180, 180, 0.1))
    ]
    best = np.radians(np.arange(-180, 180, 0.1))[int(np.argmin(grid))]
    brute = np.linalg.norm(Rotation.from_euler("z", best).apply(pose) - other_rel, axis=-1).mean()
    assert distance > 50 and distance == pytest.approx(brute, rel=1e-3)
