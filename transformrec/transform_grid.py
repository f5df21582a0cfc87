"""``transformrec show``: a labelled picture of what every class of a TransformSet does to real data.

Each sample is produced by the very code the trainer runs, for every modality:

- image transforms: one row per image, one column per class (identity, rot90, …, warp, lci),
  column titles naming the class and row labels naming the image's data-set label;
- temporal transforms (ch. 5): one row per video and class, a strip of its frames, the row label
  naming the class and its other targets (the speed κ);
- pair transforms (ch. 6): one row per anchor frame, one column per kind of pair, each cell the two
  views side by side, titled with the pair's sync and flip targets.

Learned transforms are shown as trained when a checkpoint is given.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import torch  # noqa: E402

from transformrec.config.build import build_data, build_transform_set  # noqa: E402
from transformrec.config.schema import ExperimentConfig  # noqa: E402
from transformrec.targets import IGNORE_INDEX  # noqa: E402
from transformrec.training.checkpoint import load_learned_transforms  # noqa: E402
from transformrec.transforms.transform_set import TransformSet  # noqa: E402

CELL_INCHES = 1.4
MAX_FRAMES = 8


@dataclass
class ShowFigure:
    """What was drawn: the PNG, its column titles and row labels, and whether learned weights were loaded."""

    path: Path
    columns: list[str]
    rows: list[str]
    learned_loaded: bool


def _as_picture(tensor: torch.Tensor) -> np.ndarray:
    """C×H×W in [0, 1] → H×W×C for imshow (grey images keep one channel)."""
    picture = tensor.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
    return picture[..., 0] if picture.shape[-1] == 1 else picture


def _target_text(transform_set: TransformSet, targets: dict[str, torch.Tensor], index: int) -> str:
    """``head=class`` for every head with a target on sample ``index`` (dense heads left out)."""
    parts = []
    for head, names in transform_set.heads.items():
        value = int(targets[head][index]) if head in targets else IGNORE_INDEX
        if value != IGNORE_INDEX:
            parts.append(f"{head}={names[value]}")
    return ", ".join(parts)


def _label_name(dataset, label: int) -> str:
    names = getattr(dataset, "class_names", None)
    if label < 0:
        return "unlabelled"
    return names[label] if names and label < len(names) else f"label {label}"


TITLE_FONTSIZE = 11


def place_title(fig, text: str, fontsize: int = TITLE_FONTSIZE) -> list[str]:
    """Set ``text`` as the figure's title, wrapped to the figure's width, and lay the axes out below it.

    Why: a figure of two columns (identity and one transform) is about 4 inches wide, narrower than
    a run's name; one unwrapped line was cut off at both edges. Returns the title's lines.
    """
    renderer = fig.canvas.get_renderer()
    width = fig.get_figwidth() * fig.dpi * 0.96
    lines = [text]
    for chars in range(len(text), 9, -1):  # the longest wrap whose widest line fits
        lines = textwrap.wrap(text, chars)
        probe = fig.text(0, 0, "\n".join(lines), fontsize=fontsize)
        fits = probe.get_window_extent(renderer).width <= width
        probe.remove()
        if fits:
            break
    fig.suptitle("\n".join(lines), fontsize=fontsize)
    title_inches = len(lines) * fontsize * 1.3 / 72 + 0.1
    fig.tight_layout(rect=(0, 0, 1, 1 - title_inches / fig.get_figheight()))
    return lines


def _figure(rows: int, columns: int, aspect: float = 1.0, title_lines: int = 1):
    height = rows * (CELL_INCHES + 0.18 * (title_lines - 1)) + 0.8
    fig, axes = plt.subplots(
        rows, columns, figsize=(max(4.0, columns * CELL_INCHES * aspect), max(2.5, height)), squeeze=False
    )
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, axes


def _image_figure(dataset, transform_set: TransformSet, picks: list[int], generator: torch.Generator):
    items = [dataset[i] for i in picks]
    images = torch.stack([item[0] for item in items])
    transform_set.mode = "all"
    outputs, _ = transform_set(images, generator)
    columns = [slot.name for slot in transform_set.slots]
    rows = [f"#{i}: {_label_name(dataset, int(item[1]))}" for i, item in zip(picks, items, strict=True)]
    fig, axes = _figure(len(rows), len(columns))
    for c, name in enumerate(columns):
        axes[0, c].set_title(name, fontsize=10)
        for r in range(len(rows)):
            axes[r, c].imshow(_as_picture(outputs[c * len(rows) + r]), cmap="gray", vmin=0, vmax=1)
    for r, label in enumerate(rows):
        axes[r, 0].set_ylabel(label, fontsize=9)
    return fig, columns, rows


def _prepared_figure(dataset, transform_set: TransformSet, picks: list[int]):
    """Samples a modality's adapter prepared before decoding: frame strips (video) or view pairs."""
    items = [dataset[i] for i in picks]
    samples, _ = items[0]
    if samples.dim() == 5 and samples.shape[1] == 2:  # K×2×C×H×W: pairs of views
        columns = [dataset.kinds[k] if hasattr(dataset, "kinds") else f"pair {k}" for k in range(samples.shape[0])]
        rows = [f"anchor #{i}" for i in picks]
        fig, axes = _figure(len(rows), len(columns), aspect=2.0, title_lines=3)
        for r, (pairs, targets) in enumerate(items):
            for c in range(len(columns)):
                gap = torch.ones(*pairs.shape[2:-1], 2)  # a white line between the two views
                axes[r, c].imshow(_as_picture(torch.cat([pairs[c, 0], gap, pairs[c, 1]], dim=-1)))
                axes[r, c].set_title(
                    f"{columns[c]} pair (view 1 | view 2)\n{_target_text(transform_set, targets, c)}", fontsize=8
                )
            axes[r, 0].set_ylabel(rows[r], fontsize=9)
        return fig, columns, rows
    # K×C×T×H×W: clips; one row per video and class, frames spread over the clip
    length = samples.shape[2]
    shown = torch.linspace(0, length - 1, min(MAX_FRAMES, length)).round().long().tolist()
    columns = [f"frame {t}" for t in shown]
    rows = []
    for i, (clips, targets) in zip(picks, items, strict=True):
        rows += [f"video #{i}\n{_target_text(transform_set, targets, k)}" for k in range(clips.shape[0])]
    fig, axes = _figure(len(rows), len(columns))
    row = 0
    for clips, _ in items:
        for k in range(clips.shape[0]):
            for c, t in enumerate(shown):
                axes[row, c].imshow(_as_picture(clips[k, :, t]))
            axes[row, 0].set_ylabel(rows[row], fontsize=8)
            row += 1
    for c, name in enumerate(columns):
        axes[0, c].set_title(name, fontsize=10)
    return fig, columns, rows


def render_transform_grid(
    config: ExperimentConfig,
    out: str | Path,
    num_images: int = 6,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    title: str | None = None,
) -> ShowFigure:
    """Save the labelled figure of ``config``'s TransformSet on ``num_images`` items; returns what it drew.

    Learned transforms (LCI, damage & repair) only look like the thesis's figures once trained: a
    training ``checkpoint`` loads their networks (ignored when the set has none). ``title`` names
    the figure when several runs of one data set are drawn (default: the data set and its heads).
    """
    dataset = build_data(config.data)
    transform_set = build_transform_set(config, dataset)
    learned_loaded = load_learned_transforms(transform_set, checkpoint)
    generator = torch.Generator().manual_seed(seed)
    path = transform_set.data_path(dataset, seed=seed)
    picks = torch.randperm(len(path.dataset), generator=generator)[:num_images].tolist()
    with torch.no_grad():
        if path.prepared:
            fig, columns, rows = _prepared_figure(path.dataset, transform_set, picks)
        else:
            fig, columns, rows = _image_figure(dataset, transform_set, picks, generator)
    heads = ", ".join(f"{head}: {len(names)} classes" for head, names in transform_set.heads.items())
    place_title(fig, title or f"{config.data.name}: what the classifier sees under each class ({heads})")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return ShowFigure(out, columns, rows, learned_loaded)
