"""Scenes whose only orientation cue is the object: isotropic colour-noise backgrounds, clutter, one object.

Why: rotation recognition (sec. 4.2.3) learns object features only if nothing *but* the object
tells "up" from "down". Every ingredient here other than the object has a law that is invariant
under 90° rotations and flips of the image:

  * the background mixes two random colours by a multi-scale noise field (iid grids of 4×4, 8×8
    and 16×16 values, bicubically upsampled: both the grid law and the symmetric interpolation
    commute with the square's symmetries), plus per-channel colour noise and, on some images,
    stripes at an angle uniform in [0, π);
  * 0–3 distractors (disks, squares and strokes at uniform angles and positions in a square
    centred on the image) add clutter;
  * the object's tilt (±15°), mirror (50 %), position (a centred square) and texture (isotropic
    noise) are symmetric too, so its silhouette's layout of parts is the one signal a rotation
    changes.

The nuisances (object colour, scale, position, aspect, tilt, texture, clutter) make raw pixels
and random features weak, which leaves room for a pretext task to show a gain.

Objects are drawn from templates (``K×1×T×T`` masks, or one image per item for the Fashion-MNIST
variant) by an affine map sampled bilinearly at twice the output size and average-pooled; the other edges
are antialiased analytically over one pixel. Everything is batched torch on the CPU.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)

from transformrec.data.render_colour import hsv_to_rgb, single_threaded

_OCTAVES = (4, 8, 16)  # sides of the iid grids of the background's luminance field
_COLOUR_GRID = 8  # side of the per-channel colour-noise grid
_TEXTURE_GRID = 16  # side of the object's texture grid
_MAX_DISTRACTORS = 3
_DISTRACTOR_PARAMS = 8  # kind, x, y, size, angle, hue, saturation, value
_SCALARS = 24
_GRID_PARAMS = sum(side * side for side in _OCTAVES) + 3 * _COLOUR_GRID**2 + _TEXTURE_GRID**2
NUM_PARAMS = _SCALARS + _MAX_DISTRACTORS * _DISTRACTOR_PARAMS + _GRID_PARAMS
SUPERSAMPLE = 2

# Indices of the scalar parameters (all uniform in [0, 1)).
_CX, _CY, _SCALE, _ASPECT, _TILT, _MIRROR, _OBJ_HUE, _OBJ_SAT, _OBJ_VAL, _TEXTURE = range(10)
_C1_HUE, _C1_SAT, _C1_VAL, _C2_HUE, _C2_SAT, _C2_VAL, _COLOUR_NOISE = range(10, 17)
_STRIPES, _STRIPE_ANGLE, _STRIPE_FREQ, _STRIPE_PHASE, _STRIPE_AMP, _DISTRACTOR_COUNT = range(17, 23)


def _luminance(rgb: torch.Tensor) -> torch.Tensor:
    return (rgb * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)


def _upsample(grid: torch.Tensor, size: int) -> torch.Tensor:
    return F.interpolate(grid, size=(size, size), mode="bicubic", align_corners=False)


def _grids(params: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    batch = params.shape[0]
    offset = _SCALARS + _MAX_DISTRACTORS * _DISTRACTOR_PARAMS
    octaves = []
    for side in _OCTAVES:
        octaves.append(params[:, offset : offset + side * side].view(batch, 1, side, side))
        offset += side * side
    colour = params[:, offset : offset + 3 * _COLOUR_GRID**2].view(batch, 3, _COLOUR_GRID, _COLOUR_GRID)
    offset += 3 * _COLOUR_GRID**2
    texture = params[:, offset : offset + _TEXTURE_GRID**2].view(batch, 1, _TEXTURE_GRID, _TEXTURE_GRID)
    return octaves, colour, texture


def _coordinates(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel centres in (-1, 1): ``x`` runs right, ``y`` runs down (torch's ``affine_grid`` convention)."""
    coords = (torch.arange(size, dtype=torch.float32) * 2 + 1) / size - 1
    return coords.view(1, 1, 1, size), coords.view(1, 1, size, 1)


def _background(params: torch.Tensor, size: int) -> torch.Tensor:
    """``B×3×size×size`` isotropic background in [0, 1] (see the module docstring)."""
    p = params
    octaves, colour, _ = _grids(params)
    field = sum(_upsample(grid - 0.5, size) / (k + 1) for k, grid in enumerate(octaves))
    mix = (0.5 + 1.2 * field).clamp(0, 1)
    first = hsv_to_rgb(p[:, _C1_HUE], 0.2 + 0.7 * p[:, _C1_SAT], 0.15 + 0.8 * p[:, _C1_VAL])
    second = hsv_to_rgb(p[:, _C2_HUE], 0.2 + 0.7 * p[:, _C2_SAT], 0.15 + 0.8 * p[:, _C2_VAL])
    image = first * (1 - mix) + second * mix
    image = image + (0.25 * p[:, _COLOUR_NOISE]).view(-1, 1, 1, 1) * (_upsample(colour, size) - 0.5)
    x, y = _coordinates(size)
    angle = (math.pi * p[:, _STRIPE_ANGLE]).view(-1, 1, 1, 1)
    freq = (2.0 + 5.0 * p[:, _STRIPE_FREQ]).view(-1, 1, 1, 1)
    phase = (2 * math.pi * p[:, _STRIPE_PHASE]).view(-1, 1, 1, 1)
    stripes = torch.sin(math.pi * freq * (x * torch.cos(angle) + y * torch.sin(angle)) + phase)
    amplitude = torch.where(p[:, _STRIPES] < 0.4, 0.1 + 0.2 * p[:, _STRIPE_AMP], 0.0).view(-1, 1, 1, 1)
    return (image * (1 + amplitude * stripes)).clamp(0, 1)


def _distractors(params: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """Paste 0–3 small disks, squares and strokes at uniform angles and positions (behind the object)."""
    size = image.shape[-1]
    x, y = _coordinates(size)
    pixel = 2.0 / size
    count = (params[:, _DISTRACTOR_COUNT] * (_MAX_DISTRACTORS + 1)).floor()
    for slot in range(_MAX_DISTRACTORS):
        start = _SCALARS + slot * _DISTRACTOR_PARAMS
        kind, cx, cy, radius, angle, hue, sat, val = (params[:, start + k].view(-1, 1, 1, 1) for k in range(8))
        cx, cy, radius = (cx - 0.5) * 1.7, (cy - 0.5) * 1.7, 0.07 + 0.12 * radius
        angle = 2 * math.pi * angle
        du, dv = x - cx, y - cy
        u = torch.cos(angle) * du + torch.sin(angle) * dv
        v = -torch.sin(angle) * du + torch.cos(angle) * dv
        disk = torch.sqrt(u * u + v * v) - radius
        square = torch.maximum(u.abs(), v.abs()) - 0.85 * radius
        stroke = torch.maximum(u.abs() - 1.6 * radius, v.abs() - 0.3 * radius)
        distance = torch.where(kind < 1 / 3, disk, torch.where(kind < 2 / 3, square, stroke))
        present = (count > slot).view(-1, 1, 1, 1).float()
        alpha = (0.5 - distance / pixel).clamp(0, 1) * present
        colour = hsv_to_rgb(hue.flatten(), sat.flatten(), 0.1 + 0.9 * val.flatten())
        image = image * (1 - alpha) + colour * alpha
    return image


def _object_colour(params: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """A random hue, dark on a bright background and light on a dark one, so the object stays visible."""
    p = params
    pure = hsv_to_rgb(p[:, _OBJ_HUE], 0.3 + 0.7 * p[:, _OBJ_SAT], torch.ones_like(p[:, _OBJ_HUE]))
    shade = (0.1 + 0.3 * p[:, _OBJ_VAL]).view(-1, 1, 1, 1)
    bright_background = (_luminance(background).mean((2, 3), keepdim=True) > 0.5).float()
    dark, light = pure * shade, 1 - (1 - pure) * shade
    return bright_background * dark + (1 - bright_background) * light


def object_affine(params: torch.Tensor) -> torch.Tensor:
    """``B×2×3`` maps from output coordinates to template coordinates (``affine_grid``'s ``theta``).

    The object fills a half-side ``s`` in [0.38, 0.62] of the image, has aspect exp(±0.2), tilt ±15°,
    a mirror with probability 1/2, and its centre uniform in a square that keeps most of it inside.
    """
    p = params
    scale = 0.38 + 0.24 * p[:, _SCALE]
    aspect = torch.exp((p[:, _ASPECT] - 0.5) * 0.4)
    tilt = (p[:, _TILT] - 0.5) * math.radians(30)
    mirror = torch.where(p[:, _MIRROR] < 0.5, -1.0, 1.0)
    reach = 0.9 - scale
    centre = torch.stack([(p[:, _CX] - 0.5) * 2 * reach, (p[:, _CY] - 0.5) * 2 * reach], 1)
    cos, sin = torch.cos(tilt), torch.sin(tilt)
    rotation = torch.stack([torch.stack([cos, sin], 1), torch.stack([-sin, cos], 1)], 1)  # R(-tilt)
    stretch = torch.stack([mirror / (scale * aspect), aspect / scale], 1)
    linear = stretch.unsqueeze(2) * rotation
    shift = -(linear @ centre.unsqueeze(2))
    return torch.cat([linear, shift], 2)


def render_scenes(params: torch.Tensor, templates: torch.Tensor, image_size: int, channels: int = 3) -> torch.Tensor:
    """Render ``B×NUM_PARAMS`` uniforms and per-item object masks ``B×1×T×T`` to uint8 ``B×C×S×S`` images.

    A mask value in (0, 1] is the object's coverage; its texture modulates the object's colour
    (Fashion-MNIST items keep their inner detail this way, silhouettes get only the noise texture).
    """
    if params.shape[0] != templates.shape[0]:
        raise ValueError(f"{params.shape[0]} parameter rows but {templates.shape[0]} templates")
    with single_threaded():
        size = image_size
        background = _background(params, size)
        image = _distractors(params, background)
        # Only the sampled template needs supersampling: every other edge is antialiased analytically.
        fine = SUPERSAMPLE * size
        grid = F.affine_grid(object_affine(params), [params.shape[0], 1, fine, fine], align_corners=False)
        coverage = F.grid_sample(templates.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        alpha = F.avg_pool2d((2.0 * coverage).clamp(0, 1), SUPERSAMPLE)
        detail = 0.65 + 0.35 * F.avg_pool2d(coverage.clamp(0, 1), SUPERSAMPLE)  # inner shading of real items
        _, _, texture_grid = _grids(params)
        texture = 1 + 0.5 * params[:, _TEXTURE].view(-1, 1, 1, 1) * (_upsample(texture_grid, size) - 0.5)
        colour = _object_colour(params, background) * texture * detail
        image = (image * (1 - alpha) + colour * alpha).clamp(0, 1)
        if channels == 1:
            image = _luminance(image)
        return (image * 255).round_().to(torch.uint8)
