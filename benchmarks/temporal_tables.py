"""Tables 5.1, 5.3 and 5.4 at small scale over seeds (video loading vs training: ``benchmarks/video_loading.py``).

Procedural motion videos (``transformrec make-videos``: five motion laws with Fashion-MNIST
sprites, 128 frames at 32 px, written as H.264 mp4) stand in for UCF101: the "action" is the motion
law. Each row pretrains C3D-small for a fixed number of steps on a different set of temporal
transformations, with or without the speed loss (table 5.1's rows); the supervised row trains on
the action labels for as many steps; the random row is the initialisation. Every row's frozen
features are then evaluated on the same test videos by every chapter-5 protocol: action
recognition from frozen conv5 + 3 FC layers (table 5.1), synchronisation offset (accuracy and mean
absolute error in frames) and before/after (table 5.3), and retrieval top-k (table 5.4). Frames
are decoded once into the in-memory frame cache (``frame_cache: memory``).

The seed sets the initialisation, the clip draws and the probes; rows of one seed are paired.
Claims fixed before the runs (paired, frozen action accuracy): All four (speed loss) > random
init; Speed > random init; All four (speed loss) > All four (the speed loss helps, 60.6 vs 54.2
on UCF101). Finished runs are kept in ``results/temporal_tables.<suite>.partial.json``.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.environment import benchmark_threads
from benchmarks.partial_results import PartialResults, missing_runs_lines, resumable_trainer_options, seeded_runs
from benchmarks.seed_statistics import format_mean_sd, format_ordering, paired_by_seed
from transformrec.backbones import build_backbone
from transformrec.data.procedural_video import load_sprites, write_procedural_videos
from transformrec.data.video_folder import VideoFolder
from transformrec.eval.temporal_tasks import before_after, synchronization
from transformrec.eval.video_action import finetune_action_classification, frozen_action_classification
from transformrec.eval.video_retrieval import video_retrieval
from transformrec.training import Trainer
from transformrec.transforms import build_transform

NAME = "temporal_tables"
CACHE = Path(tempfile.gettempdir()) / "transformrec_benchmark_videos"

ROWS = {  # (transforms, speed loss) as in table 5.1; None: no self-supervised pretext
    "Random init": None,
    "Action labels (supervised)": None,
    "Speed": (["speed"], True),
    "Speed + Random": (["speed", "random_order"], False),
    "Speed + Periodic": (["speed", "periodic"], False),
    "Speed + Warp": (["speed", "temporal_warp"], False),
    "Speed + Random (speed loss)": (["speed", "random_order"], True),
    "Speed + Periodic (speed loss)": (["speed", "periodic"], True),
    "Speed + Warp (speed loss)": (["speed", "temporal_warp"], True),
    "All four": (["speed", "random_order", "periodic", "temporal_warp"], False),
    "All four (speed loss)": (["speed", "random_order", "periodic", "temporal_warp"], True),
}
SEEDED = ("Random init", "Speed", "All four", "All four (speed loss)")
THESIS_5_1 = {  # UCF101 frozen conv, HMDB51 fine-tuned (%)
    "Action labels (supervised)": (60.7, 28.8),
    "Speed": (49.3, 32.5),
    "Speed + Random": (44.5, 31.7),
    "Speed + Periodic": (40.6, 29.5),
    "Speed + Warp": (43.5, 32.6),
    "Speed + Random (speed loss)": (55.1, 33.2),
    "Speed + Periodic (speed loss)": (56.5, 36.1),
    "Speed + Warp (speed loss)": (55.8, 36.9),
    "All four": (54.2, 34.9),
    "All four (speed loss)": (60.6, 38.0),
}
SCALES = {
    "smoke": dict(train=10, test=10, frames=64, size=16, width=0.125, steps=2, batch=5, eval_epochs=2, seeds=1),
    "quick": dict(train=40, test=40, frames=128, size=32, width=0.25, steps=200, batch=4, eval_epochs=20, seeds=1),
    "full": dict(train=150, test=200, frames=128, size=32, width=0.25, steps=800, batch=4, eval_epochs=50, seeds=3),
}
ROWS_OF_SUITE = {
    "smoke": ("Random init", "All four (speed loss)"),
    "quick": SEEDED,
    "full": tuple(ROWS),
}
CLAIMS = (("All four (speed loss)", "Random init"), ("Speed", "Random init"), ("All four (speed loss)", "All four"))


def _videos(scale: dict, frame_cache: str = "none") -> tuple[VideoFolder, VideoFolder]:
    root = CACHE / f"n{scale['train']}_{scale['test']}_f{scale['frames']}_s{scale['size']}"
    sprites = load_sprites()
    for split, count in (("train", scale["train"]), ("test", scale["test"])):
        write_procedural_videos(root, count, split, 0, scale["frames"], scale["size"], sprites=sprites)
    return (
        VideoFolder(root, split="train", frame_cache=frame_cache),
        VideoFolder(root, split="test", frame_cache=frame_cache),
    )


def _transforms(names: list[str], speed_loss: bool):
    return [build_transform(n, speed_loss=speed_loss) if n == "speed" else build_transform(n) for n in names]


def _evaluate(backbone, train: VideoFolder, test: VideoFolder, scale: dict, seed: int) -> dict[str, Any]:
    """Every chapter-5 protocol on the same frozen features."""
    action = frozen_action_classification(backbone, train, test, epochs=scale["eval_epochs"], seed=seed)
    sync = synchronization(backbone, train, test, epochs=scale["eval_epochs"], seed=seed)
    order = before_after(backbone, train, test, epochs=scale["eval_epochs"], seed=seed)
    retrieval = video_retrieval(backbone, train, test, crops=5, seed=seed)
    return {
        "action": action["test_acc"],
        "sync_acc": sync["test_acc"],
        "sync_mae": sync["test_mae"],
        "before_after": order["test_acc"],
        "retrieval": retrieval["top_k"],
    }


def _one_run(row: str, seed: int, scale: dict, videos: tuple[VideoFolder, VideoFolder], out: Path) -> dict[str, Any]:
    """One row and seed; its pretext trains in ``out`` (resumed from its checkpoint if a cut-off run left one)."""
    train, test = videos
    started = time.perf_counter()
    torch.manual_seed(seed)
    backbone = build_backbone("c3d_small", width=scale["width"])
    pretext: dict[str, float] = {}
    steps_per_epoch = max(1, len(train) // scale["batch"])
    epochs = math.ceil(scale["steps"] / steps_per_epoch)
    if row == "Action labels (supervised)":
        backbone = finetune_action_classification(
            backbone,
            train,
            test,
            epochs=epochs,
            lr=1e-3,
            batch_size=scale["batch"],
            test_clips=3,
            seed=seed,
            return_backbone=True,
        )["backbone"]
    elif ROWS[row] is not None:
        names, speed_loss = ROWS[row]
        summary = Trainer(
            transforms=_transforms(names, speed_loss),
            backbone=backbone,
            data=train,
            epochs=epochs,
            max_steps=scale["steps"],
            batch_size=scale["batch"],
            betas=(0.9, 0.99),
            seed=seed,
            **resumable_trainer_options(out),
        ).fit()
        pretext = {k: v for k, v in summary["final_metrics"].items() if k.startswith("acc/")}
    return {
        **_evaluate(backbone, train, test, scale, seed),
        "pretext": pretext,
        "seconds": time.perf_counter() - started,
    }


def run(suite: str = "quick", seeds: int | None = None, finished_only: bool = False) -> dict:
    """Every row of the suite; ``seeds`` (default 3 in ``full``) applies to the seeded rows, the others run seed 0.

    One torch thread by default (``--threads``): the same command started twice fills the table on two
    cores (runs are claimed).
    """
    with benchmark_threads():
        return _run(suite, seeds, finished_only)


def _run(suite: str, seeds: int | None, finished_only: bool) -> dict:
    scale = dict(SCALES[suite])
    scale["seeds"] = seeds or scale["seeds"]
    partial = PartialResults.of_benchmark(NAME, suite, finished_only)
    videos = None if finished_only else _videos(scale, frame_cache="memory")
    rows = seeded_runs(
        partial,
        ROWS_OF_SUITE[suite],
        SEEDED,
        scale["seeds"],
        lambda row, seed, out: _one_run(row, seed, scale, videos, out),
        lambda out: f"action {out['action']:.3f} sync {out['sync_acc']:.3f}",
    )
    return {
        "scale": scale,
        "torch_threads": torch.get_num_threads(),
        "rows": rows,
        "missing": partial.missing,
    }


def to_markdown(result: dict) -> str:
    scale = result["scale"]
    if not all(isinstance(runs, list) for runs in result["rows"].values()):
        return (
            "The stored results predate the seeded table (one seed, 75 pretext steps, no tables 5.3 / 5.4) and are "
            "not shown; regenerate them with `python -m benchmarks run --suite full --only temporal_tables`."
        )
    lines = [
        f"Data: procedural motion videos (`transformrec make-videos`, Fashion-MNIST sprites, 5 motion laws as "
        f"classes), {scale['train']} training / {scale['test']} test videos of {scale['frames']} frames at "
        f"{scale['size']}x{scale['size']}, H.264, decoded once into the frame cache. C3D-small (width "
        f"{scale['width']}), {scale['steps']} pretext steps of {scale['batch']} videos × all their clips (the "
        "supervised row: as many steps on the action labels); AdamW (0.9, 0.99), lr 3e-4 → 3e-7. Frozen features "
        f"at speed 2: action = conv5 + 3 FC ({scale['eval_epochs']} epochs; video accuracy %, chance 20 %); "
        "sync = offset −6…6 from two clips (accuracy %, chance 7.7 %, and MAE in frames); before/after "
        "(accuracy %, chance 50 %); retrieval = top-k hit rate of test videos among training videos. Seeds: "
        f"{scale['seeds']} on {', '.join(SEEDED)}; the other rows are single-seed (seed 0). Cells: mean ± sd. "
        f"torch threads: {result['torch_threads']}.",
        "",
        "| pre-training signal | seeds | action (frozen) | sync acc | sync MAE | before/after | retrieval top-1 "
        "| top-5 | pretext accuracy | thesis UCF101 frozen |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row, runs in result["rows"].items():
        pretext = ", ".join(f"{k.split('/')[1]} {v:.2f}" for k, v in runs[0]["pretext"].items()) or "–"
        thesis = THESIS_5_1.get(row)
        lines.append(
            f"| {row} | {len(runs)} | {format_mean_sd([r['action'] for r in runs])} | "
            f"{format_mean_sd([r['sync_acc'] for r in runs])} | "
            f"{format_mean_sd([r['sync_mae'] for r in runs], scale=1, digits=2)} | "
            f"{format_mean_sd([r['before_after'] for r in runs])} | "
            f"{format_mean_sd([r['retrieval']['1'] for r in runs])} | "
            f"{format_mean_sd([r['retrieval']['5'] for r in runs])} | "
            f"{pretext} | {f'{thesis[0]:.1f}' if thesis else '–'} |"
        )
    lines += ["", "| claim (fixed before the runs) | paired difference, frozen action accuracy (points) |", "|---|---|"]
    for better, worse in CLAIMS:
        if better in result["rows"] and worse in result["rows"]:
            ordering = paired_by_seed(result["rows"][better], result["rows"][worse], lambda r: r["action"])
            lines.append(f"| {better} > {worse} | {format_ordering(ordering)} |")
    lines += missing_runs_lines(result.get("missing", []))
    return "\n".join(lines)
