"""Silhouettes of objects with a canonical "up": the classes of the ``upright_objects`` data set.

Why these ten: rotation recognition (sec. 4.2.3) can only teach object features when the object,
and nothing else, says where "up" is. So every class

  * has a canonical upright pose that is carried by the *layout of its parts* (roof above walls,
    cap above stem, head above body, spikes above the band), not by a local gradient: a small patch
    of any of them is an edge or a flat area that looks the same in every orientation;
  * has no rotational symmetry (no class looks like itself turned by 90, 180 or 270 degrees);
  * is not a rotated (or mirrored and rotated) twin of another class, so a rotated image never
    looks like an upright one of another class.

``tests/data/test_upright_objects.py`` checks the last two rules with mask IoU.

Shapes live in the unit box with ``u`` pointing right and ``w`` pointing *up*; each is a union of
primitives from :mod:`transformrec.functional.signed_distance`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from transformrec.functional.signed_distance import sd_disk, sd_polygon, sd_rect, union

Silhouette = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _house(u: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    walls = sd_rect(u, w, -0.45, 0.45, -0.95, -0.1)
    roof = sd_polygon(u, w, [(-0.95, -0.2), (0.95, -0.2), (0.0, 0.95)])
    chimney = sd_rect(u, w, 0.38, 0.56, 0.2, 0.8)
    door = sd_rect(u, w, -0.17, 0.17, -1.0, -0.45)
    return torch.maximum(union(walls, roof, chimney), -door)


def _fir_tree(u: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    trunk = sd_rect(u, w, -0.14, 0.14, -0.95, -0.5)
    lower = sd_polygon(u, w, [(-0.85, -0.5), (0.85, -0.5), (0.0, 0.35)])
    upper = sd_polygon(u, w, [(-0.6, 0.05), (0.6, 0.05), (0.0, 0.95)])
    return union(trunk, lower, upper)


def _person(u: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    head = sd_disk(u, w, (0.0, 0.72), 0.23)
    body = sd_rect(u, w, -0.3, 0.3, -0.25, 0.45)
    arms = sd_rect(u, w, -0.62, 0.62, 0.22, 0.4)
    legs = union(sd_rect(u, w, -0.3, -0.07, -0.95, -0.2), sd_rect(u, w, 0.07, 0.3, -0.95, -0.2))
    return union(head, body, arms, legs)


def _mushroom(u: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    cap = torch.maximum(sd_disk(u, w, (0.0, -0.05), 0.95), -(w + 0.05))  # upper half-disk
    stem = sd_rect(u, w, -0.22, 0.22, -0.95, 0.0)
    return union(cap, stem)


def _flag(u: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    pole = sd_rect(u, w, -0.75, -0.58, -0.95, 0.95)
    cloth = sd_polygon(u, w, [(-0.6, 0.95), (0.8, 0.62), (-0.6, 0.15)])
    foot = sd_rect(u, w, -0.95, -0.38, -0.95, -0.8)
    return union(pole, cloth, foot)


def _arrow(u: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return sd_polygon(
        u, w, [(0.0, 1.0), (0.85, 0.12), (0.3, 0.12), (0.3, -0.95), (-0.3, -0.95), (-0.3, 0.12), (-0.85, 0.12)]
    )


def _table_lamp(u: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    shade = sd_polygon(u, w, [(-0.38, 0.95), (0.38, 0.95), (0.78, 0.25), (-0.78, 0.25)])
    stem = sd_rect(u, w, -0.1, 0.1, -0.75, 0.3)
    base = sd_rect(u, w, -0.55, 0.55, -0.95, -0.72)
    return union(shade, stem, base)


def _bottle(u: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    body = sd_rect(u, w, -0.45, 0.45, -0.95, -0.05)
    shoulder = sd_polygon(u, w, [(-0.45, -0.05), (0.45, -0.05), (0.17, 0.35), (-0.17, 0.35)])
    neck = sd_rect(u, w, -0.15, 0.15, 0.3, 0.85)
    lip = sd_rect(u, w, -0.24, 0.24, 0.8, 0.97)
    return union(body, shoulder, neck, lip)


def _chair(u: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    back = sd_rect(u, w, -0.62, -0.42, -0.1, 0.95)
    seat = sd_rect(u, w, -0.62, 0.62, -0.18, 0.04)
    legs = union(sd_rect(u, w, -0.62, -0.44, -0.95, -0.1), sd_rect(u, w, 0.44, 0.62, -0.95, -0.1))
    return union(back, seat, legs)


def _crown(u: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    band = sd_rect(u, w, -0.8, 0.8, -0.75, -0.35)
    spikes = sd_polygon(
        u,
        w,
        [(-0.8, -0.4), (0.8, -0.4), (0.9, 0.8), (0.42, -0.1), (0.0, 0.9), (-0.42, -0.1), (-0.9, 0.8)],
    )
    return union(band, spikes)


SILHOUETTES: dict[str, Silhouette] = {
    "house": _house,
    "fir_tree": _fir_tree,
    "person": _person,
    "mushroom": _mushroom,
    "flag": _flag,
    "arrow": _arrow,
    "table_lamp": _table_lamp,
    "bottle": _bottle,
    "chair": _chair,
    "crown": _crown,
}
CLASS_NAMES = list(SILHOUETTES)


def silhouette_masks(size: int = 64) -> torch.Tensor:
    """Antialiased masks ``K×1×size×size`` in [0, 1], upright, filling the unit box; row 0 is the top.

    These are the templates the renderer places with an affine map, so a class is drawn the same
    way at every resolution; the edge is antialiased over one template pixel.
    """
    coords = (torch.arange(size, dtype=torch.float32) * 2 + 1) / size - 1
    u = coords.view(1, size).expand(size, size)
    w = -coords.view(size, 1).expand(size, size)  # image rows run down, w runs up
    pixel = 2.0 / size
    masks = [(0.5 - silhouette(u, w) / pixel).clamp(0, 1) for silhouette in SILHOUETTES.values()]
    return torch.stack(masks).unsqueeze(1)
