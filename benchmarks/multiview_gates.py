"""What the multi-view studio lets a pretext learn besides pose: the data gates printed beside table 6.1.

Why: table 6.1 only means something if synchronization and flip can be solved from the body and
not from a shortcut in the data. Each gate measures one shortcut the studio once had, on the data
the pretext trains on (training subjects; the last repetition of each action held out):

- ``mirror_detection``: a small CNN trained to tell a single (background-removed, subject-cropped)
  frame from its mirror image; its accuracy on held-out frames. Near 0.5 means one frame does not
  give flip away (the studio's lighting and residue once let it reach 0.64 held out, 0.99 trained).
- ``residue``: background pixels that survive background removal per frame (the per-subject median
  held a ghost of a figure that stood still at the room's centre), and the share of the figure's
  own pixels removed as holes, against the true rendered background.
- ``pose_difference``: the share of unsynchronized pairs whose poses differ by less than 20 mm
  after the best turn of the body about the vertical (such pairs can only be told by orientation).
- ``pose_oracle``: a small MLP given the two views' 3D joints in camera coordinates (not pixels)
  decides sync on held-out repetitions: how learnable sync is from the pose itself.
- ``time_cue``: the exact Bayes accuracy of sync from one frame's index (0.5: no cue).

Gates (issue "Multi-view sync that has to learn pose"): mirror detection ≤ 0.55 held out, residue
≤ 5 px per frame, pose difference share ≤ 10 %.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch import nn

from transformrec.data.multiview_folder import MultiViewFolder
from transformrec.data.multiview_pairs import MultiViewPairs
from transformrec.data.procedural_multiview import background_images
from transformrec.eval.pose_metrics import yaw_aligned_distance
from transformrec.functional.background import foreground_mask
from transformrec.functional.pair_sampling import single_frame_time_cue, unsynchronized_times, view_pair
from transformrec.transforms import Flip, Synchronization
from transformrec.transforms.transform_set import TransformSet

MIRROR_GATE, RESIDUE_GATE, POSE_DIFFERENCE_GATE = 0.55, 5.0, 0.10
CLOSE_POSE_MM = 20.0
TRUE_BACKGROUND_TOLERANCE = 3 / 255  # PNG quantisation of the rendered background is ≤ 0.5 / 255


def _small_cnn(outputs: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 2, 1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, 2, 1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, 2, 1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, outputs),
    )


def _frames(folder: MultiViewFolder, stride: int) -> torch.Tensor:
    """Every ``stride``-th frame of every camera of ``folder``, as the pretext sees them."""
    return torch.stack(
        [
            folder.frame(s, v, t)
            for s, seq in enumerate(folder.sequences)
            for v in range(seq.num_views)
            for t in range(0, seq.num_frames, stride)
        ]
    )


def mirror_detection(train_frames: torch.Tensor, test_frames: torch.Tensor, seed: int, steps: int) -> dict[str, float]:
    """Accuracy of a small CNN telling a single frame from its mirror image, on training and held-out frames."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = _small_cnn(2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def mirrored(frames: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return torch.where(labels[:, None, None, None].bool(), frames.flip(-1), frames)

    for _ in range(steps):
        chosen = torch.randint(len(train_frames), (64,), generator=generator)
        labels = torch.randint(2, (64,), generator=generator)
        loss = F.cross_entropy(model(mirrored(train_frames[chosen], labels)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    @torch.no_grad()
    def accuracy(frames: torch.Tensor) -> float:
        labels = torch.arange(len(frames)) % 2
        return float((model(mirrored(frames, labels)).argmax(1) == labels).float().mean())

    model.eval()
    return {"train": accuracy(train_frames), "held_out": accuracy(test_frames), "steps": steps}


def background_residue(raw: MultiViewFolder, threshold: float, seed: int, stride: int = 8) -> dict[str, float]:
    """Pixels background removal keeps that are background in truth, per frame, and the figure's
    pixels it removes; against the true background the studio rendered (seed ``seed``)."""
    size = raw.raw_frame(0, 0, 0).shape[-1]
    truth = background_images(size, seed)
    residue, holes, figure, frames = [], 0.0, 0.0, 0
    for s, seq in enumerate(raw.sequences):
        for v, camera in enumerate(seq.cameras):
            median = raw.median(seq.subject, camera)
            true_background = truth[int(camera.removeprefix("cam"))]
            for t in range(0, seq.num_frames, stride):
                image = raw.raw_frame(s, v, t)
                kept = foreground_mask(image, median, threshold)[0].bool()
                true_figure = foreground_mask(image, true_background, TRUE_BACKGROUND_TOLERANCE)[0].bool()
                residue.append(int((kept & ~true_figure).sum()))
                holes += float((true_figure & ~kept).sum())
                figure += float(true_figure.sum())
                frames += 1
    values = np.array(residue)
    return {
        "pixels_per_frame": float(values.mean()),
        "share_frames_over_20": float((values > 20).mean()),
        "figure_pixels_per_frame": figure / max(frames, 1),
        "hole_share": holes / max(figure, 1.0),
        "frames": frames,
    }


def pose_difference(folder: MultiViewFolder, seed: int, pairs: int = 4000) -> dict[str, float]:
    """Share of unsynchronized pairs (the pretext's sampler) within ``CLOSE_POSE_MM`` after yaw alignment."""
    generator = torch.Generator().manual_seed(seed)
    distances = []
    for _ in range(pairs):
        seq = folder.sequences[int(torch.randint(len(folder.sequences), (1,), generator=generator))]
        anchor = int(torch.randint(seq.num_frames, (1,), generator=generator))
        t1, t2 = unsynchronized_times(anchor, seq.num_frames, generator=generator)
        distances.append(float(yaw_aligned_distance(seq.joints[t1][None], seq.joints[t2][None])))
    values = np.array(distances)
    return {"share_below_20mm": float((values < CLOSE_POSE_MM).mean()), "median_mm": float(np.median(values))}


def _oracle_pairs(folder: MultiViewFolder, count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Synchronized (label 0) and unsynchronized (1) pairs of two views' root-relative camera-coordinate joints."""
    features, labels = [], []
    for index in range(count):
        seq = folder.sequences[int(torch.randint(len(folder.sequences), (1,), generator=generator))]
        anchor = int(torch.randint(seq.num_frames, (1,), generator=generator))
        views = view_pair(seq.num_views, generator)
        times = (
            (anchor, anchor) if index % 2 == 0 else unsynchronized_times(anchor, seq.num_frames, generator=generator)
        )
        joints = [seq.joints_camera(v, t) for v, t in zip(views, times, strict=True)]
        features.append(torch.cat([(j - j[:1]).flatten() / 1000.0 for j in joints]).float())
        labels.append(index % 2)
    return torch.stack(features), torch.tensor(labels)


def pose_oracle(train: MultiViewFolder, held_out: MultiViewFolder, seed: int, steps: int) -> dict[str, float]:
    """Held-out sync accuracy of an MLP on the two views' 3D joints in camera coordinates (no pixels)."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    train_x, train_y = _oracle_pairs(train, 20000, generator)
    test_x, test_y = _oracle_pairs(held_out, 4000, generator)
    model = nn.Sequential(
        nn.Linear(train_x.shape[1], 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(steps):
        chosen = torch.randint(len(train_x), (256,), generator=generator)
        loss = F.cross_entropy(model(train_x[chosen]), train_y[chosen])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        held = float((model(test_x).argmax(1) == test_y).float().mean())
        trained = float((model(train_x).argmax(1) == train_y).float().mean())
    return {"train": trained, "held_out": held, "steps": steps}


def data_gates(
    root: Path, train_actions: list[str], held_out_actions: list[str], crop_size: int, frames: int, steps: int
) -> dict[str, dict[str, float]]:
    """Every gate of the module docstring on the studio at ``root`` (training subjects only)."""
    common = dict(split="train", image_size=crop_size, crop="subject", background="remove")
    train = MultiViewFolder(root, actions=train_actions, **common)
    held_out = MultiViewFolder(root, actions=held_out_actions, **common)
    raw = MultiViewFolder(root, split="train", actions=train_actions, background="keep")
    return {
        "mirror_detection": mirror_detection(_frames(train, 2), _frames(held_out, 4), 0, steps),
        "residue": background_residue(raw, train.threshold, seed=0),
        "pose_difference": pose_difference(train, 0),
        "pose_oracle": pose_oracle(train, held_out, 0, 2 * steps),
        "time_cue": {"bayes_accuracy": single_frame_time_cue(frames)},
    }


def gate_lines(gates: dict[str, dict[str, float]]) -> list[str]:
    """The gates as a sentence each, ✗ where one fails."""

    def mark(passed: bool) -> str:
        return "passes" if passed else "✗ fails"

    mirror, residue = gates["mirror_detection"], gates["residue"]
    close, oracle = gates["pose_difference"], gates["pose_oracle"]
    return [
        f"- Single-frame mirror detection (small CNN, {mirror['steps']} steps): {mirror['held_out']:.2f} on held-out "
        f"frames ({mirror['train']:.2f} on training frames); gate ≤ {MIRROR_GATE}: "
        f"{mark(mirror['held_out'] <= MIRROR_GATE)}.",
        f"- Background residue after removal: {residue['pixels_per_frame']:.1f} px per frame "
        f"({100 * residue['share_frames_over_20']:.0f} % of frames over 20 px) against a figure of "
        f"{residue['figure_pixels_per_frame']:.0f} px, of which {100 * residue['hole_share']:.0f} % are removed as "
        f"holes; gate ≤ {RESIDUE_GATE:g} px: {mark(residue['pixels_per_frame'] <= RESIDUE_GATE)}.",
        f"- Unsynchronized pairs within {CLOSE_POSE_MM:g} mm after the best turn of the body: "
        f"{100 * close['share_below_20mm']:.1f} % (median {close['median_mm']:.0f} mm); gate ≤ "
        f"{100 * POSE_DIFFERENCE_GATE:g} %: {mark(close['share_below_20mm'] <= POSE_DIFFERENCE_GATE)}.",
        f"- Pose oracle (MLP on the two views' 3D joints in camera coordinates): sync {oracle['held_out']:.2f} on "
        f"held-out repetitions ({oracle['train']:.2f} on training pairs): how far sync is learnable from pose.",
        f"- One frame's index: Bayes sync accuracy {gates['time_cue']['bayes_accuracy']:.3f} (0.5: no cue).",
    ]


def draw_training_pairs(folder: MultiViewFolder, path: Path, items: int = 5) -> Path:
    """A labelled picture of pretext pairs (synchronized, unsynchronized, flipped) as the pretext
    builds them: background removed, subject crops, both frames mirrored together half the time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = MultiViewPairs(folder, TransformSet([Synchronization(), Flip()]), seed=0, hflip=True)
    picks = np.linspace(0, len(pairs) - 1, items).round().astype(int)
    fig, axes = plt.subplots(items, len(pairs.kinds), figsize=(3.2 * len(pairs.kinds), 1.9 * items), squeeze=False)
    for row, index in enumerate(picks):
        plans, generator = pairs.plan(int(index))
        for column, plan in enumerate(plans):
            frames = pairs.build(plan, generator)
            ax = axes[row, column]
            ax.imshow(torch.cat(list(frames), dim=-1).permute(1, 2, 0).clamp(0, 1).numpy())
            seq = folder.sequences[plan.sequence]
            flags = [f"t={plan.times[0]},{plan.times[1]}", f"cams {plan.views[0]},{plan.views[1]}"]
            if plan.mirror_both:
                flags.append("both mirrored")
            if plan.flipped_frame is not None:
                flags.append(f"frame {plan.flipped_frame + 1} flipped")
            ax.set_title(f"{plan.kind}: {seq.subject}/{seq.action}\n{'; '.join(flags)}", fontsize=7)
            ax.axis("off")
    fig.suptitle("Pretext pairs from the studio (training subjects, background removed)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
