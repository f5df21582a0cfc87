"""Videos of objects moving by different laws, written as real H.264 mp4 files, with motion labels.

Why: the temporal tasks of chapter 5 need videos whose *motion* carries the label while single
frames do not. Every video shows one sprite (a Fashion-MNIST item when the data is installed,
else a procedural shape) on a static textured background; its class is how the sprite moves:

- ``linear``: constant velocity, reflected at the walls;
- ``gravity``: thrown, falling with constant acceleration and bouncing on the floor;
- ``pendulum``: swinging on a rigid rod around a pivot, ω = sqrt(g / L);
- ``orbit``: uniform circular motion;
- ``spring``: damped harmonic oscillation along a random axis.

Speed (how far the sprite moves per frame) is random within each class, so "how fast" alone
does not give the class away, and any single frame looks alike across classes. Each video is a
pure function of ``(seed, split, index)``. Files go to ``root/<class>/<split>_<index>.mp4``,
the layout :class:`~transformrec.data.video_folder.VideoFolder` reads.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)

from transformrec.data.item_seeding import item_seed
from transformrec.data.video_io import write_video

MOTIONS = ("linear", "gravity", "pendulum", "orbit", "spring")


def motion_path(motion: str, num_frames: int, generator: torch.Generator) -> torch.Tensor:
    """Sprite centre per frame, ``(T, 2)`` as (x, y) in [0, 1] (y down), following ``motion``'s law."""
    r = lambda *shape: torch.rand(*shape, generator=generator)  # noqa: E731
    t = torch.arange(num_frames, dtype=torch.float32)
    speed = 0.5 + r(1)  # ×0.5 … ×1.5 of each law's base rate
    if motion == "linear":
        angle = 2 * math.pi * r(1)
        velocity = 0.012 * speed * torch.cat([torch.cos(angle), torch.sin(angle)])
        raw = 0.2 + 0.6 * r(2) + t[:, None] * velocity  # reflect into [0.2, 0.8]: triangle wave
        period = 1.2
        folded = torch.remainder(raw - 0.2, period)
        return 0.2 + torch.where(folded > 0.6, period - folded, folded)
    if motion == "gravity":
        dt = 0.6 * speed
        g, floor = 0.0009, 0.8
        x0, vx = 0.2 + 0.6 * r(1), (r(1) - 0.5) * 0.01 * speed
        height = floor - (0.2 + 0.3 * r(1))  # drop height
        period = 2 * math.sqrt(2 * float(height) / g)
        phase = torch.remainder(t * dt + r(1) * period, period) - period / 2  # time since apex, in [−T/2, T/2]
        y = floor - height + 0.5 * g * phase**2
        x = 0.2 + torch.remainder(x0 - 0.2 + vx * t * dt, 0.6)
        return torch.stack([x, y], 1)
    if motion == "pendulum":
        length = 0.35 + 0.15 * r(1)
        omega = 0.08 * speed * math.sqrt(0.5 / float(length))
        amplitude = 0.4 + 0.5 * r(1)
        theta = amplitude * torch.cos(omega * t + 2 * math.pi * r(1))
        pivot = torch.tensor([0.5, 0.15])
        return torch.stack([pivot[0] + length * torch.sin(theta), pivot[1] + length * torch.cos(theta)], 1)
    if motion == "orbit":
        radius = 0.15 + 0.15 * r(1)
        direction = 1.0 if float(r(1)) < 0.5 else -1.0
        angle = direction * 0.06 * speed * t + 2 * math.pi * r(1)
        return 0.5 + radius * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
    if motion == "spring":
        axis_angle = math.pi * r(1)
        axis = torch.cat([torch.cos(axis_angle), torch.sin(axis_angle)])
        omega, decay = 0.15 * speed, 0.004 + 0.01 * r(1)
        offset = 0.3 * torch.exp(-decay * t) * torch.cos(omega * t + 2 * math.pi * r(1))
        return 0.5 + offset[:, None] * axis
    raise ValueError(f"unknown motion {motion!r}; known: {', '.join(MOTIONS)}")


def _shape_sprite(size: int, generator: torch.Generator) -> torch.Tensor:
    """RGBA sprite ``(4, S, S)``: a coloured ellipse or rectangle when no Fashion-MNIST item is given."""
    coords = torch.linspace(-1, 1, size)
    y, x = coords.view(-1, 1), coords.view(1, -1)
    if float(torch.rand(1, generator=generator)) < 0.5:
        alpha = ((x / 0.9) ** 2 + (y / 0.7) ** 2 <= 1).float()
    else:
        alpha = ((x.abs() <= 0.8) & (y.abs() <= 0.6)).float().expand(size, size)
    colour = 0.3 + 0.7 * torch.rand(3, 1, 1, generator=generator)
    return torch.cat([colour.expand(3, size, size) * (0.8 + 0.2 * (y + 1) / 2), alpha[None]], 0)


def _item_sprite(item: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """RGBA sprite from a grey Fashion-MNIST item: the item's pixels tinted, alpha from its silhouette."""
    grey = F.interpolate(item.float().view(1, 1, *item.shape[-2:]) / 255, size=(size, size), mode="bilinear")[0]
    tint = 0.4 + 0.6 * torch.rand(3, 1, 1, generator=generator)
    return torch.cat([grey * tint + 0.15, (grey > 0.05).float()], 0)


def _background(size: int, generator: torch.Generator) -> torch.Tensor:
    """A static textured background ``(3, S, S)``: smooth colour noise over a random base colour."""
    base = 0.2 + 0.5 * torch.rand(3, 1, 1, generator=generator)
    noise = F.interpolate(torch.rand(1, 3, 6, 6, generator=generator), size=(size, size), mode="bicubic")[0]
    return (base + 0.25 * (noise - 0.5)).clamp(0, 1)


def render_video(
    motion: str,
    num_frames: int,
    size: int,
    generator: torch.Generator,
    item: torch.Tensor | None = None,
) -> torch.Tensor:
    """Frames ``(T, S, S, 3)`` uint8 of one sprite moving by ``motion`` over a static background."""
    sprite_size = max(4, size // 4)
    sprite = _item_sprite(item, sprite_size, generator) if item is not None else _shape_sprite(sprite_size, generator)
    background = _background(size, generator)
    centres = motion_path(motion, num_frames, generator)
    frames = background.expand(num_frames, 3, size, size).clone()
    half = sprite_size // 2
    for t, (cx, cy) in enumerate(centres.tolist()):
        top, left = round(cy * size) - half, round(cx * size) - half
        rows = slice(max(top, 0), min(top + sprite_size, size))
        cols = slice(max(left, 0), min(left + sprite_size, size))
        if rows.start >= rows.stop or cols.start >= cols.stop:
            continue
        patch = sprite[:, rows.start - top : rows.stop - top, cols.start - left : cols.stop - left]
        alpha = patch[3:]
        frames[t, :, rows, cols] = patch[:3] * alpha + frames[t, :, rows, cols] * (1 - alpha)
    return (frames.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def load_sprites(root: str | Path | None = None, count: int = 10000) -> torch.Tensor | None:
    """Fashion-MNIST training items ``(count, 28, 28)`` uint8 as sprites, or None when not installed."""
    from transformrec.data.fashion_mnist import FashionMNIST

    try:
        return FashionMNIST(root=root, split="train", limit=count).images
    except FileNotFoundError:
        return None


def write_procedural_videos(
    root: str | Path,
    num_videos: int,
    split: str = "train",
    seed: int = 0,
    num_frames: int = 128,
    size: int = 64,
    fps: float = 25.0,
    sprites: torch.Tensor | None = None,
) -> list[Path]:
    """Write ``num_videos`` mp4 files (classes balanced by index) and a ``manifest.json``; returns the paths.

    ``sprites``: optional uint8 ``(N, 28, 28)`` Fashion-MNIST items used as the moving objects.
    Files already present are kept, so an interrupted generation can simply be re-run.
    """
    if size % 2:
        raise ValueError(f"video size must be even for H.264, got {size}")
    root = Path(root)
    paths = []
    for index in range(num_videos):
        motion = MOTIONS[index % len(MOTIONS)]
        path = root / motion / f"{split}_{index:05d}.mp4"
        paths.append(path)
        if path.exists():
            continue
        generator = torch.Generator().manual_seed(item_seed(seed, split, index))
        item = None
        if sprites is not None:
            item = sprites[int(torch.randint(len(sprites), (1,), generator=generator))]
        write_video(path, render_video(motion, num_frames, size, generator, item), fps=fps)
    manifest = {
        "motions": list(MOTIONS),
        "split": split,
        "seed": seed,
        "num_frames": num_frames,
        "size": size,
        "fps": fps,
        "sprites": "fashion_mnist" if sprites is not None else "shapes",
        "videos": [str(p.relative_to(root)) for p in paths],
    }
    (root / f"manifest_{split}.json").write_text(json.dumps(manifest, indent=2))
    return paths
