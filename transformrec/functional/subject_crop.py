"""Subject-centred crops and the matching virtual camera rotation (sec. 6.2.3–6.2.4).

Why: the thesis trains and transfers on crops centred on the subject, as prior work on
Human3.6M does, so a person fills the network's input wherever they stand in the room. A crop
centred on the root joint's projection is, to first order, the image of a camera turned to look
at the root; the 3D target must then be expressed in that *virtual* camera's coordinates, or the
pose would carry the subject's place in the original image ("we correct for this by rotating the
target pose accordingly, i.e., to virtually center the camera on the root joint", sec. 6.2.4).

Conventions are those of :mod:`transformrec.functional.camera` (OpenCV; pixel origin at the
top-left corner of the image, pixel i covering ``[i, i + 1)``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias


def centering_rotation(point: torch.Tensor) -> torch.Tensor:
    """The smallest rotation ``R`` (3×3) with ``R @ point`` on the optical axis (+z).

    Rodrigues' formula about ``point × z``; the identity when ``point`` is already on the axis.
    """
    direction = point / point.norm()
    z = torch.tensor([0.0, 0.0, 1.0], dtype=point.dtype, device=point.device)
    axis = torch.linalg.cross(direction, z)
    sine, cosine = axis.norm(), direction @ z
    if float(sine) < 1e-12:
        return torch.eye(3, dtype=point.dtype, device=point.device)
    k = axis / sine
    skew = torch.stack(
        [
            torch.stack([torch.zeros_like(k[0]), -k[2], k[1]]),
            torch.stack([k[2], torch.zeros_like(k[0]), -k[0]]),
            torch.stack([-k[1], k[0], torch.zeros_like(k[0])]),
        ]
    )
    return torch.eye(3, dtype=point.dtype, device=point.device) + sine * skew + (1 - cosine) * skew @ skew


def subject_box(joints_uv: torch.Tensor, root: int = 0, margin: float = 0.15) -> tuple[float, float, float]:
    """``(u, v, half_side)`` of the square crop centred on joint ``root``'s projection.

    The half side reaches the farthest projected joint (max-norm) and ``margin`` of it beyond, so
    the whole figure stays inside the crop.
    """
    centre = joints_uv[root]
    half = float((joints_uv - centre).abs().max()) * (1.0 + margin)
    return float(centre[0]), float(centre[1]), max(half, 1.0)


def crop_square(image: torch.Tensor, u: float, v: float, half: float, size: int) -> torch.Tensor:
    """The square ``[u − half, u + half] × [v − half, v + half]`` of ``image`` (C×H×W), resampled to
    ``size``×``size`` bilinearly; what lies outside the image is zero."""
    _, height, width = image.shape
    steps = (torch.arange(size, dtype=torch.float32) + 0.5) * (2 * half / size)
    us, vs = u - half + steps, v - half + steps
    grid_x = (us / width * 2 - 1).view(1, size).expand(size, size)
    grid_y = (vs / height * 2 - 1).view(size, 1).expand(size, size)
    grid = torch.stack([grid_x, grid_y], -1)[None].to(image.dtype)
    return F.grid_sample(image[None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0]
