"""Polyharmonic-spline interpolation in 2D (sec. 4.2.2, random warping).

The warp transform turns random offsets at a few control points into a dense flow field by
polyharmonic-spline interpolation with an affine term. Order k uses the radial basis
φ(r) = r^k for odd k and φ(r) = r^k log r for even k (k = 2 is the thin-plate spline).

Why the operator form: the control points of a random warp sit on the same grid for every
image, so the whole fit-and-evaluate pipeline is a *fixed linear map* from control-point
offsets to dense flow. :func:`interpolation_operator` builds that map once; warping a batch is
then a single matmul, which is what makes the warp cheaper than refitting a thin-plate spline
per image (see ``benchmarks/warp_vs_kornia.py``).
"""

from __future__ import annotations

import torch


def polyharmonic_kernel(squared_distance: torch.Tensor, order: int) -> torch.Tensor:
    """φ as a function of r² so that no square root (with its infinite gradient at 0) is needed.

    For even orders φ(r) = r^k log r = ½ r^k log r²; φ(0) = 0 by continuity.
    """
    if order < 1:
        raise ValueError(f"polyharmonic order must be >= 1, got {order}")
    r2 = squared_distance.clamp_min(0.0)
    if order % 2 == 1:
        return r2.clamp_min(1e-30).pow(order / 2.0) * (r2 > 0)
    safe = torch.where(r2 > 0, r2, torch.ones_like(r2))
    return 0.5 * safe.pow(order // 2) * torch.log(safe) * (r2 > 0)


def _pairwise_squared_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """‖a_i − b_j‖² for ``a`` (..., N, 2) and ``b`` (..., M, 2), computed exactly (no expansion)."""
    return (a.unsqueeze(-2) - b.unsqueeze(-3)).pow(2).sum(-1)


def _affine_basis(points: torch.Tensor) -> torch.Tensor:
    """[1, x, y] rows: the degree-1 polynomial term that makes affine maps reproduced exactly."""
    ones = torch.ones_like(points[..., :1])
    return torch.cat([ones, points], dim=-1)


def fit_polyharmonic(centers: torch.Tensor, values: torch.Tensor, order: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit an interpolating polyharmonic spline with affine term.

    Solves the saddle-point system ``[[A, P], [Pᵀ, 0]] [w; v] = [f; 0]`` with ``A_ij = φ(‖c_i − c_j‖)``
    and ``P = [1, x, y]``. ``centers`` is (..., n, 2), ``values`` (..., n, D); returns kernel
    weights (..., n, D) and affine weights (..., 3, D). Batched over leading dimensions.
    """
    n = centers.shape[-2]
    if n < 3:
        raise ValueError(f"need at least 3 control points for the affine term, got {n}")
    system = _system_matrix(centers, order)
    zeros = values.new_zeros(*values.shape[:-2], 3, values.shape[-1])
    solution = torch.linalg.solve(system, torch.cat([values, zeros], dim=-2))
    return solution[..., :n, :], solution[..., n:, :]


def _system_matrix(centers: torch.Tensor, order: int) -> torch.Tensor:
    kernel = polyharmonic_kernel(_pairwise_squared_distance(centers, centers), order)
    poly = _affine_basis(centers)
    zeros = centers.new_zeros(*centers.shape[:-2], 3, 3)
    top = torch.cat([kernel, poly], dim=-1)
    bottom = torch.cat([poly.transpose(-1, -2), zeros], dim=-1)
    return torch.cat([top, bottom], dim=-2)


def evaluate_polyharmonic(
    points: torch.Tensor, centers: torch.Tensor, weights: torch.Tensor, affine: torch.Tensor, order: int = 2
) -> torch.Tensor:
    """Evaluate a fitted spline at ``points`` (..., m, 2); returns (..., m, D)."""
    kernel = polyharmonic_kernel(_pairwise_squared_distance(points, centers), order)
    return kernel @ weights + _affine_basis(points) @ affine


def interpolation_operator(points: torch.Tensor, centers: torch.Tensor, order: int = 2) -> torch.Tensor:
    """The (m, n) matrix M with ``spline(points) = M @ values`` for any values at ``centers``.

    Composes evaluation with the inverse of the fitting system; computed in float64 for
    accuracy and returned in the dtype of ``points``.
    """
    n = centers.shape[-2]
    c64, p64 = centers.double(), points.double()
    system = _system_matrix(c64, order)
    basis = torch.cat([polyharmonic_kernel(_pairwise_squared_distance(p64, c64), order), _affine_basis(p64)], dim=-1)
    # basis @ inv(system)[:, :n]  ==  solve(systemᵀ, basisᵀ)ᵀ[:, :n]
    operator = torch.linalg.solve(system.transpose(-1, -2), basis.transpose(-1, -2)).transpose(-1, -2)
    return operator[..., :n].to(points.dtype)
