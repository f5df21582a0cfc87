"""A labelled image data set generated in-process: one upright shape on a sky/ground scene.

Not the default any more (that is ``upright_objects``): the sky/horizon, the darker striped ground
and the top-lit shading make rotation solvable from 8×8 patches, and half of its classes (disk,
square, cross, ring, nearly diamond) look the same rotated, so rotation pretraining on it learns the
background, not the objects. It stays registered because it is exactly that: a worked example of a
local shortcut (sec. 4.2.4) that ``transformrec audit`` flags, and
``tests/data/test_upright_objects.py`` holds it beside the default as the contrast.

It was designed to carry the two properties the thesis relies on:
  * a canonical upright orientation (lighter sky on top, textured ground at the bottom,
    shaded shapes lit from above, upright triangles/houses/arrows), so that a rotation is
    recognisable, as on natural photos (ch. 4);
  * classes that differ only in the global outline of a flat-coloured shape (colour, size,
    position and aspect are random), so a linear probe rewards features that see the shape,
    not colour or texture statistics.

Every item is a pure function of ``(seed, split, index)``: its parameters are drawn from a
``torch.Generator`` seeded from those three numbers, so item ``i`` is identical across calls,
DataLoader workers and processes. Rendering is analytic (signed distances on a coordinate grid,
edges antialiased over one pixel) with batched torch ops; ``__getitem__`` renders the fixed
block of indices containing ``i`` at once and caches it as uint8, so a 10k×32 px epoch costs
well under a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)

from transformrec.data.item_seeding import item_uniforms
from transformrec.data.registry import register_dataset
from transformrec.data.render_colour import hsv_to_rgb, single_threaded
from transformrec.data.rendered_images import BLOCK, RenderedImageSet
from transformrec.functional.signed_distance import sd_box, sd_polygon

CLASS_NAMES = ["disk", "square", "diamond", "triangle", "cross", "star", "ring", "house", "arrow", "half_moon"]
_NOISE = 8  # side of the coarse noise grid that textures sky and ground
_NUM_PARAMS = 32 + _NOISE * _NOISE


def item_params(seed: int, split: str, indices: Sequence[int]) -> torch.Tensor:
    """Uniform parameters ``len(indices)×P`` in [0, 1), one generator per index."""
    return item_uniforms(seed, split, indices, _NUM_PARAMS)


# --------------------------------------------------------------------------- shapes (signed distances)
# Shapes live in a unit box with ``w`` pointing *up*; negative distance = inside.


def _star(points: int = 5, outer: float = 1.0, inner: float = 0.42, lift: float = -0.08) -> list[tuple[float, float]]:
    angles = [math.pi / 2 + k * math.pi / points for k in range(2 * points)]
    radii = [outer if k % 2 == 0 else inner for k in range(2 * points)]
    return [(r * math.cos(a), r * math.sin(a) + lift) for r, a in zip(radii, angles, strict=True)]


_POLYGONS: dict[str, list[tuple[float, float]]] = {
    "diamond": [(0.0, 1.0), (0.85, 0.0), (0.0, -1.0), (-0.85, 0.0)],
    "triangle": [(0.0, 0.95), (-0.95, -0.72), (0.95, -0.72)],
    "star": _star(),
    "house": [(-0.75, -0.9), (0.75, -0.9), (0.75, 0.12), (0.0, 0.95), (-0.75, 0.12)],
    "arrow": [(0.0, 1.0), (0.85, 0.12), (0.32, 0.12), (0.32, -0.95), (-0.32, -0.95), (-0.32, 0.12), (-0.85, 0.12)],
}

_SDF: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "disk": lambda u, w: torch.sqrt(u * u + w * w) - 0.92,
    "square": lambda u, w: sd_box(u, w, 0.78, 0.78),
    "cross": lambda u, w: torch.minimum(sd_box(u, w, 0.92, 0.3), sd_box(u, w, 0.3, 0.92)),
    "ring": lambda u, w: (torch.sqrt(u * u + w * w) - 0.7).abs() - 0.24,
    "half_moon": lambda u, w: torch.maximum(torch.sqrt(u * u + (w + 0.5) ** 2) - 1.0, -(w + 0.5)),
    **{name: (lambda u, w, v=verts: sd_polygon(u, w, v)) for name, verts in _POLYGONS.items()},
}


# --------------------------------------------------------------------------- rendering


def render_params(params: torch.Tensor, image_size: int, channels: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Render ``B×P`` parameters to uint8 images ``B×C×S×S`` and their labels.

    Kept separate from the data set so the scene model can be read (and tested) on its own.
    Large batches are rendered in blocks to bound the memory of the per-edge polygon tensors.
    """
    if params.shape[0] > BLOCK:
        parts = [render_params(chunk, image_size, channels) for chunk in params.split(BLOCK)]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
    with single_threaded():
        return _render(params, image_size, channels)


def _render(params: torch.Tensor, image_size: int, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    batch, size = params.shape[0], image_size
    p = [params[:, k].view(batch, 1, 1) for k in range(32)]
    labels = (params[:, 0] * len(CLASS_NAMES)).long().clamp_(max=len(CLASS_NAMES) - 1)
    coords = (torch.arange(size, dtype=torch.float32) * 2 + 1) / size - 1  # pixel centres in (-1, 1)
    y, x = coords.view(1, size, 1), coords.view(1, 1, size)  # y points down
    pixel = 2.0 / size
    noise = params[:, 32:].view(batch, 1, _NOISE, _NOISE)
    noise = F.interpolate(noise, size=(size, size), mode="bicubic", align_corners=False)[:, 0].clamp(0, 1)

    # Sky above a slightly tilted horizon: pale near the horizon, deeper towards the top, faint clouds.
    horizon = 0.0 + 0.5 * p[9] + (p[10] - 0.5) * 0.3 * x
    t = ((y + 1) / (horizon + 1)).clamp(0, 1)  # 0 at the top edge, 1 at the horizon
    sky_rgb = hsv_to_rgb(params[:, 11], 0.1 + 0.45 * params[:, 12], 0.75 + 0.25 * params[:, 13])
    t4 = t.unsqueeze(1)
    sky = sky_rgb * (0.72 + 0.28 * t4) + (1 - sky_rgb) * 0.3 * t4
    sky = sky + (0.25 * p[23] * (noise - 0.5).clamp(min=0)).unsqueeze(1)

    # Ground: darker, striped and mottled, darkest at the bottom edge.
    ground_rgb = hsv_to_rgb(params[:, 14], 0.25 + 0.55 * params[:, 15], 0.22 + 0.3 * params[:, 16])
    angle = (p[17] - 0.5) * 1.2
    freq = 2.0 + 4.0 * p[18]
    stripes = torch.sin(math.pi * freq * (y * torch.cos(angle) + x * torch.sin(angle)) + 2 * math.pi * p[19])
    texture = 1 + 0.35 * p[20] * stripes + 0.9 * p[21] * (noise - 0.5)
    depth = ((y - horizon) / (1 - horizon + 1e-3)).clamp(0, 1)
    ground = ground_rgb * (texture * (1.15 - 0.45 * depth)).unsqueeze(1)
    ground_alpha = ((y - horizon) / pixel + 0.5).clamp(0, 1).unsqueeze(1)
    image = sky * (1 - ground_alpha) + ground * ground_alpha

    # The shape: random centre, size, mild aspect and tilt; flat colour lit from above.
    scale = 0.3 + 0.25 * p[3]
    aspect = torch.exp((p[4] - 0.5) * 0.4)
    theta = (p[5] - 0.5) * 0.35
    dx, dy = x - (p[1] - 0.5) * 0.8, y - (p[2] - 0.5) * 0.7
    cos, sin = torch.cos(theta), torch.sin(theta)
    u = (cos * dx - sin * dy) / (scale * aspect)
    w = -(sin * dx + cos * dy) / (scale / aspect)
    distance = torch.empty(batch, size, size)
    for label, name in enumerate(CLASS_NAMES):
        chosen = (labels == label).nonzero().squeeze(1)
        if chosen.numel():
            distance[chosen] = _SDF[name](u[chosen], w[chosen])
    alpha = (0.5 - distance * scale / pixel).clamp(0, 1).unsqueeze(1)
    shape_rgb = hsv_to_rgb(params[:, 6], 0.5 + 0.5 * params[:, 7], 0.45 + 0.55 * params[:, 8])
    shape = shape_rgb * (1 + 0.18 * w.clamp(-1, 1)).unsqueeze(1)
    image = (image * (1 - alpha) + shape * alpha).clamp(0, 1)

    if channels == 1:
        image = (image * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    return (image * 255).round_().to(torch.uint8), labels


# --------------------------------------------------------------------------- data set


@register_dataset("procedural", run_inputs=("image_size", "split"))
class ProceduralShapes(RenderedImageSet):
    """``num_samples`` generated scenes per split, labelled by shape class (10 classes).

    ``cache`` keeps rendered blocks as uint8 (``num_samples×C×S×S`` bytes at most: 30 MB for
    10k at 32 px); turn it off for very large sets, each item is then rendered on its own.
    """

    min_image_size = 4

    def __init__(
        self,
        num_samples: int = 10000,
        image_size: int = 32,
        seed: int = 0,
        split: str = "train",
        channels: int = 3,
        cache: bool = True,
    ) -> None:
        super().__init__(num_samples, image_size, seed, split, channels, cache)
        self.num_classes = len(CLASS_NAMES)
        self.class_names = list(CLASS_NAMES)
        self._labels: torch.Tensor | None = None

    @property
    def labels(self) -> torch.Tensor:
        """All labels (LongTensor), from the parameters alone: no image is rendered."""
        if self._labels is None:
            params = item_params(self.seed, self.split, range(self.num_samples))
            self._labels = (params[:, 0] * self.num_classes).long().clamp_(max=self.num_classes - 1)
        return self._labels

    def render_uint8(self, indices: Sequence[int]) -> torch.Tensor:
        images, _ = render_params(item_params(self.seed, self.split, indices), self.image_size, self.channels)
        return images
