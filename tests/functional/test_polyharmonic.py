"""Polyharmonic interpolation against scipy's RBFInterpolator and closed-form properties."""

import numpy as np
import pytest
import torch
from scipy.interpolate import RBFInterpolator

from transformrec.functional.polyharmonic import (
    evaluate_polyharmonic,
    fit_polyharmonic,
    interpolation_operator,
    polyharmonic_kernel,
)

SCIPY_KERNEL = {1: "linear", 2: "thin_plate_spline", 3: "cubic"}


def _random_problem(seed: int, n: int = 16, m: int = 50):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-1, 1, (n, 2))
    values = rng.normal(size=(n, 2))
    queries = rng.uniform(-1.2, 1.2, (m, 2))
    return centers, values, queries


@pytest.mark.parametrize("order", [1, 2, 3])
def test_matches_scipy_rbf_interpolator_with_affine_term(order):
    centers, values, queries = _random_problem(order)
    reference = RBFInterpolator(centers, values, kernel=SCIPY_KERNEL[order], degree=1)(queries)
    c, v, q = (torch.from_numpy(a) for a in (centers, values, queries))
    weights, affine = fit_polyharmonic(c, v, order)
    ours = evaluate_polyharmonic(q, c, weights, affine, order).numpy()
    np.testing.assert_allclose(ours, reference, atol=1e-8)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_operator_equals_fit_then_evaluate(order):
    centers, values, queries = _random_problem(10 + order)
    c, v, q = (torch.from_numpy(a) for a in (centers, values, queries))
    weights, affine = fit_polyharmonic(c, v, order)
    direct = evaluate_polyharmonic(q, c, weights, affine, order)
    torch.testing.assert_close(interpolation_operator(q, c, order) @ v, direct, atol=1e-9, rtol=0)


def test_interpolates_control_values_exactly():
    centers, values, _ = _random_problem(3)
    c, v = torch.from_numpy(centers), torch.from_numpy(values)
    torch.testing.assert_close(interpolation_operator(c, c, 2) @ v, v, atol=1e-9, rtol=0)


def test_affine_functions_are_reproduced_exactly():
    # With the degree-1 term, an affine field has zero kernel weights and is reproduced everywhere.
    centers, _, queries = _random_problem(4)
    c, q = torch.from_numpy(centers), torch.from_numpy(queries)
    matrix = torch.tensor([[0.3, -1.2], [0.7, 0.1]], dtype=torch.float64)
    shift = torch.tensor([0.5, -0.25], dtype=torch.float64)
    weights, affine = fit_polyharmonic(c, c @ matrix + shift, 2)
    assert weights.abs().max() < 1e-10
    torch.testing.assert_close(evaluate_polyharmonic(q, c, weights, affine, 2), q @ matrix + shift)


def test_kernel_closed_forms():
    r = torch.tensor([0.0, 0.5, 2.0], dtype=torch.float64)
    torch.testing.assert_close(polyharmonic_kernel(r**2, 1), r)
    torch.testing.assert_close(
        polyharmonic_kernel(r**2, 2), torch.tensor([0.0, 0.25 * np.log(0.5), 4 * np.log(2.0)], dtype=torch.float64)
    )
    torch.testing.assert_close(polyharmonic_kernel(r**2, 3), r**3)
    torch.testing.assert_close(
        polyharmonic_kernel(r**2, 4), torch.tensor([0.0, 0.0625 * np.log(0.5), 16 * np.log(2.0)], dtype=torch.float64)
    )


def test_batched_fit_matches_per_item_fit():
    centers = torch.rand(3, 9, 2, dtype=torch.float64)
    values = torch.randn(3, 9, 2, dtype=torch.float64)
    weights, affine = fit_polyharmonic(centers, values)
    for b in range(3):
        w, a = fit_polyharmonic(centers[b], values[b])
        torch.testing.assert_close(weights[b], w)
        torch.testing.assert_close(affine[b], a)


def test_rejects_invalid_order_and_too_few_points():
    with pytest.raises(ValueError, match="order"):
        polyharmonic_kernel(torch.ones(2), 0)
    with pytest.raises(ValueError, match="at least 3"):
        fit_polyharmonic(torch.rand(2, 2), torch.rand(2, 1))
