"""A procedural multi-view "motion capture studio": an articulated 17-joint figure seen by 4 cameras.

Why: chapter 6 needs synchronized multi-view video with 3D joints and calibrated cameras
(Human3.6M). This generator writes data of that shape offline, in the layout
:class:`~transformrec.data.multiview_folder.MultiViewFolder` reads:

- **Subjects** (``S1, S5, S6, S7, S8`` train, ``S9, S11`` test, as in Human3.6M) differ in body
  size (±10 %), girth and clothing (hue and brightness around one palette), skin and hair tone.
- **Actions** are procedural motions driving joint angles of a kinematic tree (Human3.6M joint
  order, :mod:`transformrec.functional.skeleton`): ``walk`` (a circular walk with opposed arm
  and leg swing), ``wave`` (one arm waving while turning, the other arm and the legs moving),
  ``squat``, ``jump`` and ``turn`` (spinning with arms that swing). Speed, amplitude, phase and
  start orientation are random per sequence, and so are the limb motions of ``turn`` and
  ``wave`` (each limb its own frequency and phase, so poses do not repeat within a sequence and
  two instants differ by more than the body's rotation). Bone lengths are constant over time,
  and the feet stay on the floor (except in flight).
- **Where**: every sequence starts at its own random place (``START_RADIUS``) and drifts slowly
  (``MAX_DRIFT``); a walk circles around its own random centre. Why: with every action but walk
  at the room's centre, the figure covered the same pixels in most frames of a subject, the
  per-camera median background held a ghost of it, and the residue left after background
  removal gave a mirrored frame away and let a network memorise training frames.
- **Cameras**: 4 fixed, calibrated pinhole cameras at the corners of the room looking at its
  centre (``K``, ``R``, ``t`` per camera, OpenCV convention, millimetres).
- **Rendering**: every bone is a capsule (the head a sphere, with hair at the back and an emblem
  on the chest so front and back differ) with a per-pixel depth test and
  Lambert shading from a light fixed in the *world* whose direction is drawn per sequence
  (azimuth uniform, 30–70° above the floor), 2× supersampled, over a **static textured background per
  camera** (a tiled floor projected through the camera and a patterned wall): the shortcut of
  sec. 6.2.2 exists, and a per-view median image recovers it. A light fixed in camera coordinates
  would light a mirrored frame from the other side and give the flip task away from one frame;
  with the light's azimuth uniform in the world, a frame and its mirror image are equally likely.

Each sequence is a pure function of ``(seed, subject, action)``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)
from PIL import Image

from transformrec.data.item_seeding import item_seed
from transformrec.functional.camera import intrinsics_matrix, look_at, project, world_to_camera
from transformrec.functional.skeleton import NUM_JOINTS

TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS = ("S9", "S11")
ACTIONS = ("walk", "wave", "squat", "jump", "turn")
NUM_CAMERAS = 4
FPS = 25.0
GENERATOR_VERSION = 5  # bumped when the rendering changes, so cached sequences are rewritten
START_RADIUS = 800.0
"""mm: a sequence's root starts uniformly in a disc of this radius around the room's centre."""
MAX_DRIFT = 400.0
"""mm: the most a sequence's root drifts (a straight line at constant speed) over its length. With
the start this keeps the figure within 1.2 m of the centre, where the cameras see it whole (joints
leave a 64 px frame in under 1 % of frames, mostly at the top of a jump)."""
WALK_CENTRE_RADIUS = 400.0
FIGURE_HEIGHT_SHARE = 0.55
"""Image height share of a 1.8 m figure at the room's centre (0.66 before the figure moved about)."""
"""mm: a walk circles (radius 700 mm) around a point uniform in a disc of this radius."""

# Rest skeleton in millimetres. Body frame: x to the subject's left, y forward, z up.
_BODY = {
    "hip_half_width": 120.0,
    "thigh": 440.0,
    "shin": 430.0,
    "ankle_height": 80.0,
    "spine": 230.0,
    "thorax": 250.0,
    "neck": 110.0,
    "head": 130.0,
    "shoulder_half_width": 175.0,
    "shoulder_drop": 30.0,
    "upper_arm": 280.0,
    "forearm": 250.0,
}
# Capsule radii (mm) of the bones (parent, child) and of the head sphere.
_RADII = {
    (0, 1): 85.0,
    (1, 2): 70.0,
    (2, 3): 52.0,
    (0, 4): 85.0,
    (4, 5): 70.0,
    (5, 6): 52.0,
    (0, 7): 125.0,
    (7, 8): 130.0,
    (8, 9): 45.0,
    (9, 10): 60.0,
    (8, 11): 60.0,
    (11, 12): 45.0,
    (12, 13): 38.0,
    (8, 14): 60.0,
    (14, 15): 45.0,
    (15, 16): 38.0,
}
_HEAD_RADIUS = 105.0
_PART = {  # colour group of each bone: 0 shirt, 1 trousers, 2 skin, 3 sleeves
    (0, 1): 1,
    (1, 2): 1,
    (2, 3): 1,
    (0, 4): 1,
    (4, 5): 1,
    (5, 6): 1,
    (0, 7): 0,
    (7, 8): 0,
    (8, 9): 2,
    (9, 10): 2,
    (8, 11): 0,
    (11, 12): 3,
    (12, 13): 2,
    (8, 14): 0,
    (14, 15): 3,
    (15, 16): 2,
}
OVERHEAD_LIGHT = np.array([0.0, 0.0, 1.0])  # towards the light, world coordinates (z is up)


def sequence_light(rng: np.random.Generator) -> np.ndarray:
    """A unit direction towards the light in world coordinates: azimuth uniform, elevation 30–70°."""
    azimuth = rng.uniform(0.0, 2 * math.pi)
    elevation = math.radians(rng.uniform(30.0, 70.0))
    return np.array(
        [math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth), math.sin(elevation)]
    )


def _rx(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([np.stack([one, zero, zero], -1), np.stack([zero, c, -s], -1), np.stack([zero, s, c], -1)], -2)


def _ry(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([np.stack([c, zero, s], -1), np.stack([zero, one, zero], -1), np.stack([-s, zero, c], -1)], -2)


def _rz(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1), np.stack([zero, zero, one], -1)], -2)


def _apply(rotation: np.ndarray, vector) -> np.ndarray:
    return np.einsum("tij,j->ti", rotation, np.asarray(vector, dtype=np.float64))


def _motion_angles(action: str, num_frames: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Joint angles (radians) and root trajectory per frame for one procedural motion."""
    t = np.arange(num_frames) / FPS
    speed = rng.uniform(0.8, 1.25)
    amp = rng.uniform(0.8, 1.2)
    phase = rng.uniform(0, 2 * math.pi)
    zeros = np.zeros(num_frames)
    a = {name: zeros.copy() for name in ("hip_l", "hip_r", "knee_l", "knee_r", "abd_l", "abd_r")}
    a.update({name: zeros.copy() for name in ("sh_l", "sh_r", "sabd_l", "sabd_r", "elbow_l", "elbow_r")})
    a.update(lean=zeros.copy(), lift=zeros.copy(), twist=zeros.copy())
    yaw0 = rng.uniform(0, 2 * math.pi)
    a["yaw"] = np.full(num_frames, yaw0)
    a["x"], a["y"] = zeros.copy(), zeros.copy()
    a["abd_l"] += 0.05
    a["abd_r"] += 0.05
    a["sabd_l"] += 0.15
    a["sabd_r"] += 0.15
    a["elbow_l"] += 0.2
    a["elbow_r"] += 0.2
    if action == "walk":
        w = 2 * math.pi * 0.9 * speed
        swing = 0.45 * amp * np.sin(w * t + phase)
        a["hip_l"], a["hip_r"] = swing, -swing
        a["knee_l"] = 0.7 * amp * np.clip(np.sin(w * t + phase - 1.2), 0, None) + 0.05
        a["knee_r"] = 0.7 * amp * np.clip(np.sin(w * t + phase - 1.2 + math.pi), 0, None) + 0.05
        a["sh_l"], a["sh_r"] = -0.6 * swing, 0.6 * swing
        a["elbow_l"] += 0.25 + 0.2 * np.clip(-swing, 0, None)
        a["elbow_r"] += 0.25 + 0.2 * np.clip(swing, 0, None)
        a["twist"] = 0.08 * np.sin(w * t + phase)
        radius, angular = 700.0, 0.35 * speed * rng.choice([-1.0, 1.0])
        theta = yaw0 + angular * t
        a["x"], a["y"] = radius * np.cos(theta), radius * np.sin(theta)
        a["yaw"] = theta + math.pi * (0.5 if angular < 0 else -0.5) + math.pi  # face along the path
        a["lift"] = 15.0 * np.cos(2 * w * t + 2 * phase)
    elif action == "wave":
        w = 2 * math.pi * 1.1 * speed
        side = rng.choice(["l", "r"])
        other = "r" if side == "l" else "l"
        a[f"sabd_{side}"] = 2.4 * min(amp, 1.1) - 0.5 * (1 - np.cos(0.2 * w * t + rng.uniform(0, 2 * math.pi)))
        a[f"elbow_{side}"] = 0.6 + 0.55 * amp * np.sin(w * t + phase)
        a[f"sh_{side}"] = 0.3 * np.sin(0.5 * w * t)
        # The other arm and the legs move on their own (per-sequence frequencies and phases).
        a[f"sh_{other}"] = _limb_wave(t, rng, -0.6, 0.9)
        a[f"sabd_{other}"] = _limb_wave(t, rng, 0.1, 1.2)
        a[f"elbow_{other}"] = _limb_wave(t, rng, 0.1, 1.4)
        a["yaw"] = yaw0 + 0.6 * np.sin(0.25 * w * t + phase)
        for leg in ("l", "r"):
            a[f"hip_{leg}"] = _limb_wave(t, rng, -0.2, 0.5)
            a[f"knee_{leg}"] = np.clip(2 * a[f"hip_{leg}"], 0, None) + 0.05
        a["lean"] = _limb_wave(t, rng, -0.1, 0.25)
    elif action == "squat":
        w = 2 * math.pi * 0.45 * speed
        depth = 0.5 * (1 - np.cos(w * t + phase)) * 1.1 * amp
        a["hip_l"] = a["hip_r"] = depth
        a["knee_l"] = a["knee_r"] = 2 * depth
        a["lean"] = 0.45 * depth
        a["sh_l"] = a["sh_r"] = 1.3 * depth
        a["abd_l"] = a["abd_r"] = 0.05 + 0.15 * depth
        a["yaw"] = yaw0 + 0.3 * t * speed
    elif action == "jump":
        w = 2 * math.pi * 0.6 * speed
        cycle = np.mod(w * t + phase, 2 * math.pi) / (2 * math.pi)
        crouch = np.where(cycle < 0.4, np.sin(cycle / 0.4 * math.pi), 0.0) * 0.7 * amp
        flight = np.where(cycle >= 0.45, np.sin(np.clip((cycle - 0.45) / 0.55, 0, 1) * math.pi), 0.0)
        a["hip_l"] = a["hip_r"] = crouch + 0.2 * flight
        a["knee_l"] = a["knee_r"] = 2 * crouch + 0.3 * flight
        a["lean"] = 0.4 * crouch
        a["sabd_l"] = a["sabd_r"] = 0.15 + 2.3 * flight
        a["sh_l"] = a["sh_r"] = -0.5 * crouch
        a["lift"] = 280.0 * amp * flight
        a["yaw"] = yaw0 + 0.5 * np.floor(t * 0.6 * speed)
    elif action == "turn":
        w = 2 * math.pi * 0.3 * speed * rng.choice([-1.0, 1.0])
        a["yaw"] = yaw0 + w * t
        for arm in ("l", "r"):  # arms swing up, down, forward and back, each on its own
            a[f"sabd_{arm}"] = _limb_wave(t, rng, 0.3, 2.2)
            a[f"sh_{arm}"] = _limb_wave(t, rng, -0.7, 1.0)
            a[f"elbow_{arm}"] = _limb_wave(t, rng, 0.1, 1.5)
        a["lean"] = _limb_wave(t, rng, -0.05, 0.2)
        step = np.sin(2 * abs(w) * t + phase)
        a["hip_l"], a["hip_r"] = 0.25 * np.clip(step, 0, None), 0.25 * np.clip(-step, 0, None)
        a["knee_l"], a["knee_r"] = 2 * a["hip_l"], 2 * a["hip_r"]
    else:
        raise ValueError(f"unknown action {action!r}; known: {ACTIONS}")
    if action == "walk":  # the circle's own centre
        centre = _uniform_in_disc(WALK_CENTRE_RADIUS, rng)
        a["x"], a["y"] = a["x"] + centre[0], a["y"] + centre[1]
    else:  # a random start and a slow straight drift
        start = _uniform_in_disc(START_RADIUS, rng)
        heading = rng.uniform(0, 2 * math.pi)
        drift = rng.uniform(0.3, 1.0) * MAX_DRIFT * t / max(t[-1], 1e-9)
        a["x"], a["y"] = start[0] + drift * math.cos(heading), start[1] + drift * math.sin(heading)
    return a


def _uniform_in_disc(radius: float, rng: np.random.Generator) -> tuple[float, float]:
    distance, angle = radius * math.sqrt(rng.uniform()), rng.uniform(0, 2 * math.pi)
    return distance * math.cos(angle), distance * math.sin(angle)


def _limb_wave(t: np.ndarray, rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """One limb angle over time: a random offset in [low, high] plus a sinusoid of random frequency
    (0.3–1.2 Hz), amplitude and phase, clipped to [low, high]. Each limb draws its own."""
    centre = rng.uniform(low, high)
    amplitude = rng.uniform(0.25, 0.5) * (high - low)
    frequency = rng.uniform(0.3, 1.2)
    return np.clip(centre + amplitude * np.sin(2 * math.pi * frequency * t + rng.uniform(0, 2 * math.pi)), low, high)


def skeleton_motion(action: str, num_frames: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """World joint positions ``T×17×3`` (mm, z up) of ``action``; bone lengths are fixed by ``scale``."""
    a = _motion_angles(action, num_frames, rng)
    b = {k: v * scale for k, v in _BODY.items()}
    body = _rz(a["yaw"]) @ _rx(a["lean"])  # pelvis orientation (lean forward = rotation about the left axis)
    chest = body @ _rz(a["twist"])
    joints = np.zeros((num_frames, NUM_JOINTS, 3))
    down = (0.0, 0.0, -1.0)
    for side, sign, hip, knee, ankle in (("r", -1.0, 1, 2, 3), ("l", 1.0, 4, 5, 6)):
        joints[:, hip] = _apply(body, (sign * b["hip_half_width"], 0.0, 0.0))
        thigh = body @ _rz(-a["lean"] * 0 + 0 * a["yaw"]) @ _rx(-a["lean"]) @ _rx(a[f"hip_{side}"])
        thigh = thigh @ _ry(-sign * a[f"abd_{side}"])
        joints[:, knee] = joints[:, hip] + _apply(thigh, (0.0, 0.0, -b["thigh"]))
        shin = thigh @ _rx(-a[f"knee_{side}"])
        joints[:, ankle] = joints[:, knee] + _apply(shin, (0.0, 0.0, -b["shin"]))
    joints[:, 7] = _apply(body, (0.0, 0.0, b["spine"]))
    joints[:, 8] = joints[:, 7] + _apply(chest, (0.0, 0.0, b["thorax"]))
    joints[:, 9] = joints[:, 8] + _apply(chest, (0.0, 10.0, b["neck"]))
    joints[:, 10] = joints[:, 9] + _apply(chest, (0.0, 15.0, b["head"]))
    for side, sign, shoulder, elbow, wrist in (("l", 1.0, 11, 12, 13), ("r", -1.0, 14, 15, 16)):
        joints[:, shoulder] = joints[:, 8] + _apply(chest, (sign * b["shoulder_half_width"], 0.0, -b["shoulder_drop"]))
        upper = chest @ _rx(a[f"sh_{side}"]) @ _ry(-sign * a[f"sabd_{side}"])
        joints[:, elbow] = joints[:, shoulder] + _apply(upper, down) * b["upper_arm"]
        lower = upper @ _rx(a[f"elbow_{side}"])
        joints[:, wrist] = joints[:, elbow] + _apply(lower, down) * b["forearm"]
    # Stand on the floor: the lowest ankle rests at ankle height (plus the jump's flight).
    lowest = joints[:, [3, 6], 2].min(axis=1)
    joints[:, :, 2] += (b["ankle_height"] - lowest + np.clip(a["lift"], 0, None))[:, None]
    joints[:, :, 0] += a["x"][:, None]
    joints[:, :, 1] += a["y"][:, None]
    return joints


def studio_cameras(size: int, distance: float = 4200.0, height: float = 1500.0) -> list[dict[str, torch.Tensor]]:
    """The 4 fixed cameras at the room's corners, looking at the centre at 0.9 m height.

    The focal length makes a 1.8 m figure at the room's centre about 0.55 of the image high, so
    the whole figure stays in view wherever it goes (within 1.2 m of the centre, see ``MAX_DRIFT``).
    """
    focal = FIGURE_HEIGHT_SHARE * size * distance / 1800.0
    cameras = []
    for k in range(NUM_CAMERAS):
        angle = math.pi / 4 + k * math.pi / 2 + (0.12 if k % 2 else -0.08)
        position = torch.tensor([distance * math.cos(angle), distance * math.sin(angle), height + 120.0 * (k % 2)])
        rotation, translation = look_at(position.double(), torch.tensor([0.0, 0.0, 900.0]).double())
        cameras.append({"K": intrinsics_matrix(focal, size, size).double(), "R": rotation, "t": translation})
    return cameras


def _pixel_grid(size: int, supersample: int) -> np.ndarray:
    side = size * supersample
    centres = (np.arange(side) + 0.5) / supersample  # pixel centres in output-pixel units
    u, v = np.meshgrid(centres, centres)
    return np.stack([u, v], -1)  # H×W×2 (u, v)


def render_background(camera: dict[str, torch.Tensor], size: int, seed: int) -> np.ndarray:
    """The static background of one camera, ``H×W×3`` in [0, 1]: a tiled floor and a patterned wall.

    The floor is the plane z = 0 seen through the camera (tiles of 0.5 m, two tones), cut off at
    the room's walls (radius 3.2 m), behind which a wall with stripes, panels and noise stands;
    colours are desaturated so the clothes stand out.
    """
    rng = np.random.default_rng(seed)
    uv = _pixel_grid(size, 1)
    k_inv = np.linalg.inv(camera["K"].numpy())
    rotation, translation = camera["R"].numpy(), camera["t"].numpy()
    rays_cam = np.concatenate([uv, np.ones((*uv.shape[:2], 1))], -1) @ k_inv.T
    rays_world = rays_cam @ rotation  # R^T d
    centre = -rotation.T @ translation
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = -centre[2] / rays_world[..., 2]
    floor = centre + depth[..., None] * rays_world
    radius = np.hypot(floor[..., 0], floor[..., 1])
    on_floor = (depth > 0) & (radius < 3200.0)
    tiles = (np.floor(floor[..., 0] / 500.0) + np.floor(floor[..., 1] / 500.0)) % 2
    floor_tone = rng.uniform(0.35, 0.5, 3) * 0.9 + 0.05 * rng.uniform(size=3)
    floor_rgb = floor_tone * (0.82 + 0.18 * tiles[..., None])
    azimuth = np.arctan2(rays_world[..., 1], rays_world[..., 0])
    elevation = rays_world[..., 2] / np.linalg.norm(rays_world, axis=-1)
    wall_base = rng.uniform(0.45, 0.7) + rng.uniform(-0.06, 0.06, 3)
    stripes = 0.08 * np.sin(azimuth * rng.integers(9, 23) + rng.uniform(0, 6.3))
    panels = 0.1 * (np.floor((elevation + 0.3) * rng.uniform(6, 12)) % 2)
    wall_rgb = np.clip(wall_base + (stripes + panels)[..., None], 0, 1)
    image = np.where(on_floor[..., None], floor_rgb, wall_rgb)
    for _ in range(rng.integers(2, 5)):  # furniture-like blocks fixed in image space (asymmetric)
        top, left = rng.integers(0, size // 2), rng.integers(0, size - size // 6)
        height, width = rng.integers(size // 8, size // 3), rng.integers(size // 10, size // 4)
        image[top : top + height, left : left + width] = rng.uniform(0.25, 0.6) + rng.uniform(-0.05, 0.05, 3)
    noise = rng.normal(0, 0.025, (size // 4 + 1, size // 4 + 1, 1))
    image = image + np.kron(noise, np.ones((4, 4, 1)))[:size, :size]
    return np.clip(image, 0, 1)


def render_figure(
    joints_world: np.ndarray,
    camera: dict[str, torch.Tensor],
    background: np.ndarray,
    colours: np.ndarray,
    scale: float = 1.0,
    girth: float = 1.0,
    supersample: int = 2,
    light_world: np.ndarray | None = None,
) -> np.ndarray:
    """Render one frame: shaded capsules per bone and a head sphere, depth-tested, over ``background``.

    Returns ``H×W×3`` floats in [0, 1]. ``colours``: 6×3 (shirt, trousers, skin, sleeves, hair,
    chest emblem); hair covers the back of the head and the emblem the front of the chest.
    ``light_world``: unit direction towards the light in world coordinates (default: overhead);
    it is turned into the camera's frame, so every camera sees the same light.
    """
    size = background.shape[0]
    light = camera["R"].numpy() @ (OVERHEAD_LIGHT if light_world is None else light_world)
    points = world_to_camera(torch.from_numpy(joints_world), camera["R"], camera["t"]).numpy()
    k_matrix = camera["K"].numpy()
    focal = k_matrix[0, 0]
    pixels = project(torch.from_numpy(points), camera["K"]).numpy()
    uv = _pixel_grid(size, supersample)
    side = size * supersample
    depth = np.full((side, side), np.inf)
    colour = np.zeros((side, side, 3))
    primitives = [(a, b, _RADII[(a, b)] * scale * girth, colours[_PART[(a, b)]]) for a, b in _RADII]
    primitives.append((10, 10, _HEAD_RADIUS * scale, colours[2]))
    # Front and back must look different (a face, hair at the back, a chest emblem), or a body's
    # orientation would be ambiguous up to 180° as on a mannequin: extra spheres placed from the joints.
    left = joints_world[11] - joints_world[14]
    up = joints_world[8] - joints_world[0]
    forward = np.cross(up, left)
    forward = forward / max(np.linalg.norm(forward), 1e-9)
    up = up / max(np.linalg.norm(up), 1e-9)
    head = joints_world[10]
    chest = 0.5 * (joints_world[7] + joints_world[8]) + forward * _RADII[(7, 8)] * scale * girth * 0.85
    extra_points = np.stack([head - forward * 0.3 * _HEAD_RADIUS * scale + up * 0.15 * _HEAD_RADIUS * scale, chest])
    extra_camera = world_to_camera(torch.from_numpy(extra_points), camera["R"], camera["t"]).numpy()
    points = np.concatenate([points, extra_camera])
    pixels = np.concatenate([pixels, project(torch.from_numpy(extra_camera), camera["K"]).numpy()])
    hair, emblem = len(points) - 2, len(points) - 1
    primitives.append((hair, hair, 0.9 * _HEAD_RADIUS * scale, colours[4]))
    primitives.append((emblem, emblem, 70.0 * scale, colours[5]))
    for a, b, radius, rgb in primitives:
        pa, pb, za, zb = pixels[a], pixels[b], points[a, 2], points[b, 2]
        if min(za, zb) <= radius:
            continue  # behind or touching the camera
        # Only the pixels of the capsule's bounding box are tested (supersampled pixel units).
        reach = focal * radius / min(za, zb) + 1.0
        low = np.floor((np.minimum(pa, pb) - reach) * supersample).astype(int).clip(0, side)
        high = np.ceil((np.maximum(pa, pb) + reach) * supersample).astype(int).clip(0, side)
        if low[0] >= high[0] or low[1] >= high[1]:
            continue
        box = (slice(low[1], high[1]), slice(low[0], high[0]))
        grid = uv[box]
        axis = pb - pa
        length2 = float(axis @ axis)
        rel = grid - pa
        s = np.clip((rel @ axis) / length2, 0.0, 1.0) if length2 > 1e-9 else np.zeros(grid.shape[:2])
        closest = pa + s[..., None] * axis
        offset = grid - closest
        distance = np.linalg.norm(offset, axis=-1)
        z_axis = za + s * (zb - za)
        radius_px = focal * radius / z_axis
        inside = distance < radius_px
        if not inside.any():
            continue
        ratio = np.where(inside, distance / radius_px, 1.0)
        bulge = np.sqrt(np.clip(1 - ratio**2, 0, 1))
        z_surface = z_axis - radius * bulge
        closer = inside & (z_surface < depth[box])
        with np.errstate(invalid="ignore", divide="ignore"):
            direction = np.where(distance[..., None] > 1e-9, offset / distance[..., None], 0.0)
        normal = np.concatenate([direction * ratio[..., None], -bulge[..., None]], -1)
        shade = 0.3 + 0.7 * np.clip(normal @ light, 0, None)
        depth[box] = np.where(closer, z_surface, depth[box])
        colour[box] = np.where(closer[..., None], rgb * shade[..., None], colour[box])
    mask = np.isfinite(depth)
    full_background = np.kron(background, np.ones((supersample, supersample, 1)))
    image = np.where(mask[..., None], colour, full_background)
    return image.reshape(size, supersample, size, supersample, 3).mean(axis=(1, 3))


def _subject_look(subject: str, seed: int) -> tuple[float, float, np.ndarray]:
    rng = np.random.default_rng(item_seed(seed, "train", 1000 + sum(ord(c) * 31**i for i, c in enumerate(subject))))
    scale = rng.uniform(0.9, 1.1)
    girth = rng.uniform(0.85, 1.2)
    # Outfits vary around one palette (a warm shirt, cool trousers), in hue and brightness: subjects
    # look different, but not so different that 5 of them cannot teach what a person looks like.
    hue = np.array([0.0, 0.6]) + rng.uniform(-0.09, 0.09, 2)
    bright = rng.uniform(0.7, 1.1, 2)
    shirt = (np.array([0.5 + 0.5 * math.cos(2 * math.pi * (hue[0] + k / 3)) for k in range(3)]) * 0.8 + 0.1) * bright[0]
    trousers = np.array([0.5 + 0.5 * math.cos(2 * math.pi * (hue[1] + k / 3)) for k in range(3)]) * 0.6 * bright[1]
    trousers = trousers + 0.05
    skin = np.array([0.95, 0.75, 0.6]) * rng.uniform(0.6, 1.0)
    sleeves = shirt * rng.uniform(0.6, 1.0)
    hair = np.array([0.25, 0.15, 0.08]) * rng.uniform(0.3, 1.2)
    emblem = 1.0 - 0.8 * shirt  # a contrasting patch on the chest
    return scale, girth, np.stack([shirt, trousers, skin, sleeves, hair, emblem])


def write_procedural_multiview(
    root: str | Path,
    subjects: tuple[str, ...] | list[str] = TRAIN_SUBJECTS + TEST_SUBJECTS,
    actions: tuple[str, ...] | list[str] = ACTIONS,
    num_frames: int = 160,
    size: int = 64,
    seed: int = 0,
    repetitions: int = 1,
) -> list[Path]:
    """Write the layout of :mod:`transformrec.data.multiview_folder` under ``root``; returns sequence folders.

    ``repetitions``: sequences per (subject, action), each with its own start orientation, speed,
    amplitude and light, named ``walk``, ``walk_2``, … (as Human3.6M repeats each action), so one
    subject's training frames span many orientations. Existing complete sequences (same
    ``num_frames`` and ``size``) are kept, so repeated calls are cheap.
    """
    if repetitions < 1:
        raise ValueError(f"repetitions must be at least 1, got {repetitions}")
    for kind, names in (("subject", subjects), ("action", actions)):
        for name in names:  # each names one folder directly under root (or under its subject)
            if not name or name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
                raise ValueError(f"{kind} {name!r} must be a plain folder name (no path separators, not . or ..)")
    unknown = [action for action in actions if action.split("_")[0] not in ACTIONS]
    if unknown:
        raise ValueError(f"unknown action(s) {', '.join(unknown)}; known: {', '.join(ACTIONS)}")
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    root = Path(root)
    cameras = studio_cameras(size)
    backgrounds = [render_background(cam, size, item_seed(seed, "train", 77 + k)) for k, cam in enumerate(cameras)]
    written = []
    for subject in subjects:
        scale, girth, colours = _subject_look(subject, seed)
        subject_dir = root / subject
        subject_dir.mkdir(parents=True, exist_ok=True)
        calibration = {
            f"cam{k}": {"K": cam["K"].tolist(), "R": cam["R"].tolist(), "t": cam["t"].tolist()}
            for k, cam in enumerate(cameras)
        }
        (subject_dir / "cameras.json").write_text(json.dumps(calibration, indent=1))
        for action_index, repetition in ((a, r) for a in range(len(actions)) for r in range(repetitions)):
            action = actions[action_index]
            folder = subject_dir / (action if repetition == 0 else f"{action}_{repetition + 1}")
            marker = folder / "done.json"
            expected = {"num_frames": num_frames, "size": size, "seed": seed, "version": GENERATOR_VERSION}
            if marker.exists() and json.loads(marker.read_text()) == expected:
                written.append(folder)
                continue
            key = sum(ord(c) * 131**i for i, c in enumerate(subject)) * 17 + action_index + 7919 * repetition
            rng = np.random.default_rng(item_seed(seed, "train", key))
            joints = skeleton_motion(action, num_frames, scale, rng)
            light = sequence_light(rng)
            folder.mkdir(parents=True, exist_ok=True)
            np.save(folder / "joints3d.npy", joints.astype(np.float32))
            for k, camera in enumerate(cameras):
                cam_dir = folder / f"cam{k}"
                cam_dir.mkdir(exist_ok=True)
                for t in range(num_frames):
                    frame = render_figure(joints[t], camera, backgrounds[k], colours, scale, girth, light_world=light)
                    Image.fromarray((frame * 255 + 0.5).astype(np.uint8)).save(cam_dir / f"{t:06d}.png")
            marker.write_text(json.dumps(expected))
            written.append(folder)
    return written


def background_images(size: int, seed: int = 0) -> torch.Tensor:
    """The true static backgrounds of the 4 cameras, ``4×3×H×W`` (for tests and figures)."""
    cameras = studio_cameras(size)
    images = [render_background(cam, size, item_seed(seed, "train", 77 + k)) for k, cam in enumerate(cameras)]
    return F.relu(torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float())
