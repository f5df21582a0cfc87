"""Signed distances of 2D primitives on coordinate grids (negative inside), batched over any leading dims.

Why a functional module: the embedded image sets draw their silhouettes analytically, so an edge
can be antialiased over exactly one pixel at any resolution, and a shape is a union (``min``) or
intersection (``max``) of primitives whose maths is tested once, here.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def sd_box(u: torch.Tensor, w: torch.Tensor, half_u: float, half_w: float) -> torch.Tensor:
    """Exact signed distance to the axis-aligned box ``|u| <= half_u, |w| <= half_w``."""
    qu, qw = u.abs() - half_u, w.abs() - half_w
    outside = torch.sqrt(qu.clamp(min=0) ** 2 + qw.clamp(min=0) ** 2)
    return outside + torch.maximum(qu, qw).clamp(max=0)


def sd_rect(u: torch.Tensor, w: torch.Tensor, u0: float, u1: float, w0: float, w1: float) -> torch.Tensor:
    """Signed distance to the box ``[u0, u1] × [w0, w1]`` (corners instead of centre and half sides)."""
    return sd_box(u - (u0 + u1) / 2, w - (w0 + w1) / 2, (u1 - u0) / 2, (w1 - w0) / 2)


def sd_disk(u: torch.Tensor, w: torch.Tensor, centre: tuple[float, float], radius: float) -> torch.Tensor:
    """Signed distance to a disk."""
    return torch.sqrt((u - centre[0]) ** 2 + (w - centre[1]) ** 2) - radius


def sd_polygon(u: torch.Tensor, w: torch.Tensor, vertices: Sequence[tuple[float, float]]) -> torch.Tensor:
    """Exact signed distance to a simple polygon (edge distances + even-odd crossing test)."""
    vert = torch.tensor(vertices, dtype=u.dtype)
    vu, vw = vert[:, 0], vert[:, 1]
    eu, ew = vu.roll(1) - vu, vw.roll(1) - vw  # edge i runs from vertex i to vertex i-1
    pu, pw = u.unsqueeze(-1) - vu, w.unsqueeze(-1) - vw
    t = ((pu * eu + pw * ew) / (eu * eu + ew * ew)).clamp(0, 1)
    dist2 = ((pu - eu * t) ** 2 + (pw - ew * t) ** 2).amin(-1)
    above, below = w.unsqueeze(-1) >= vw, w.unsqueeze(-1) < vw.roll(1)
    side = eu * pw > ew * pu
    crossings = ((above & below & side) | (~above & ~below & ~side)).sum(-1)
    return torch.where(crossings % 2 == 1, -1.0, 1.0) * dist2.sqrt()


def union(*distances: torch.Tensor) -> torch.Tensor:
    """Signed distance (a bound outside, exact inside up to the seams) of the union of shapes."""
    out = distances[0]
    for distance in distances[1:]:
        out = torch.minimum(out, distance)
    return out
