"""Signed distances against closed forms and a brute-force point-to-segment reference."""

import math

import numpy as np
import torch

from transformrec.functional.signed_distance import sd_box, sd_disk, sd_polygon, sd_rect, union


def _grid(n=41):
    axis = torch.linspace(-1.5, 1.5, n)
    return torch.meshgrid(axis, axis, indexing="xy")


def test_disk_distance_is_radial_distance_minus_radius():
    u, w = _grid()
    expected = np.hypot(u.numpy() - 0.2, w.numpy() + 0.1) - 0.5
    assert np.allclose(sd_disk(u, w, (0.2, -0.1), 0.5).numpy(), expected, atol=1e-6)


def test_rect_equals_box_with_same_centre_and_half_sides():
    u, w = _grid()
    assert torch.allclose(sd_rect(u, w, -0.2, 0.6, 0.1, 0.5), sd_box(u - 0.2, w - 0.3, 0.4, 0.2))


def test_box_distance_outside_corner_is_euclidean_and_inside_is_nearest_side():
    point = torch.tensor([[1.0 + 0.3]]), torch.tensor([[0.5 + 0.4]])
    assert math.isclose(float(sd_box(*point, 1.0, 0.5)), 0.5, rel_tol=1e-6)  # 3-4-5 triangle
    assert math.isclose(float(sd_box(torch.tensor(0.9), torch.tensor(0.0), 1.0, 0.5)), -0.1, rel_tol=1e-5)


def _segment_distance(p, a, b):
    ab, ap = b - a, p - a
    t = np.clip((ap @ ab) / (ab @ ab), 0, 1)
    return np.linalg.norm(ap - t * ab)


def test_polygon_distance_matches_brute_force_and_sign_matches_inside_test():
    vertices = [(0.0, 1.0), (0.85, 0.12), (0.32, 0.12), (0.32, -0.95), (-0.32, -0.95), (-0.32, 0.12), (-0.85, 0.12)]
    u, w = _grid(23)
    got = sd_polygon(u, w, vertices).numpy()
    verts = np.array(vertices)
    from matplotlib.path import Path

    inside = Path(verts).contains_points(np.stack([u.numpy().ravel(), w.numpy().ravel()], 1)).reshape(u.shape)
    for (i, j), value in np.ndenumerate(got):
        p = np.array([u[i, j].item(), w[i, j].item()])
        nearest = min(_segment_distance(p, verts[k], verts[k - 1]) for k in range(len(verts)))
        assert math.isclose(abs(value), nearest, abs_tol=1e-5)
        if nearest > 1e-3:
            assert (value < 0) == inside[i, j]


def test_union_is_pointwise_minimum():
    a, b = torch.tensor([0.3, -0.2, 1.0]), torch.tensor([0.1, 0.4, -0.5])
    assert torch.equal(union(a, b), torch.tensor([0.1, -0.2, -0.5]))
