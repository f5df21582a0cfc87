"""Table 6.1 at small scale: which multi-view pretext choices give 3D-pose features.

The procedural multi-view studio (``transformrec make-multiview``: a 17-joint figure doing five
motions, 4 fixed cameras, a static textured background per camera) stands in for Human3.6M,
with its subjects: S1, S5, S6, S7, S8 pretrain, S1 alone supervises the transfer, S9 and S11
are the test subjects. Every SSL row pretrains the same Siamese ResNet-18 (from the same random
init) on a different variant of the synchronization + flip task of eq. 6.1, then transfers the
trunk to root-relative 3D pose regression (linear head, per-joint normalisation, MSE, first
three residual stages frozen, joint image + pose mirroring) and reports MPJPE / NMPJPE / PMPJPE
(mm, 17/16 correction) on the test subjects. The random rows transfer the untrained network.
Rows (g), (k) and (m) of the thesis are the baseline itself (d), as in table 6.1.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.environment import benchmark_threads
from benchmarks.multiview_gates import data_gates, draw_training_pairs, gate_lines
from benchmarks.partial_results import PartialResults, missing_runs_lines, resumable_trainer_options, seeded_runs
from benchmarks.plots import sync_accuracy_by_gap as sync_accuracy_by_gap_plot
from benchmarks.seed_statistics import format_mean_sd, format_ordering, paired_by_seed
from transformrec.backbones import build_backbone
from transformrec.data.multiview_folder import MultiViewFolder, MultiViewPoses
from transformrec.data.multiview_pairs import MultiViewPairs
from transformrec.data.procedural_multiview import (
    ACTIONS,
    GENERATOR_VERSION,
    TEST_SUBJECTS,
    TRAIN_SUBJECTS,
    write_procedural_multiview,
)
from transformrec.eval.pose3d import pose3d_transfer
from transformrec.eval.pose_metrics import pose_errors
from transformrec.eval.sync_gap import sync_accuracy_by_gap
from transformrec.training import Trainer
from transformrec.transforms import Flip, Synchronization
from transformrec.transforms.augment import RandomCropFlip
from transformrec.transforms.transform_set import TransformSet

NAME = "multiview_tables"
CACHE = Path(tempfile.gettempdir()) / "transformrec_benchmark_multiview"

BASELINE = dict(signals=("sync", "flip"), fusion="mult", background="remove", single_view=False)
LONG_ROW = "(d) SSL without background, long pretext"
"""Row (d) trained 3x longer with the thesis's schedule (cosine to x1e-3 ending at its last step);
held-out sync is measured every ``stage_steps`` on the way. Added because no 8000-step row reaches
the held-out sync gate. Fixed before it ran: seed 0 first; seeds 1-2 (and (c) at the same length)
follow only if seed 0 ends at held-out sync >= ``SYNC_TARGET``; its claims are in ``CLAIMS``."""
ROWS = {  # row -> None (random init) or the pretext variant; background also applies to the transfer
    "(a) Random with background": dict(random=True, background="keep"),
    "(b) Random without background": dict(random=True, background="remove"),
    "(c) SSL with background": {**BASELINE, "background": "keep"},
    "(d) SSL without background": BASELINE,
    "(e) Only flip": {**BASELINE, "signals": ("flip",)},
    "(f) Only sync": {**BASELINE, "signals": ("sync",)},
    "(h) Fusion concat": {**BASELINE, "fusion": "concat"},
    "(i) Fusion add": {**BASELINE, "fusion": "add"},
    "(j) Fusion diff": {**BASELINE, "fusion": "diff"},
    "(l) Single-view SSL": {**BASELINE, "single_view": True},
    LONG_ROW: {**BASELINE, "long": True},
}
SAME_AS_BASELINE = ("(g) Both sync & flip", "(k) Fusion mult", "(m) Multi-view SSL")
ORDER = (
    "(a) Random with background",
    "(b) Random without background",
    "(c) SSL with background",
    "(d) SSL without background",
    "(e) Only flip",
    "(f) Only sync",
    "(g) Both sync & flip",
    "(h) Fusion concat",
    "(i) Fusion add",
    "(j) Fusion diff",
    "(k) Fusion mult",
    "(l) Single-view SSL",
    "(m) Multi-view SSL",
    LONG_ROW,
)
THESIS_6_1 = {  # MPJPE, NMPJPE, PMPJPE (mm), Human3.6M, transfer on S1
    "(a) Random with background": (167.8, 147.1, 124.5),
    "(b) Random without background": (165.5, 145.4, 114.5),
    "(c) SSL with background": (138.4, 128.1, 100.8),
    "(d) SSL without background": (104.9, 91.7, 78.4),
    "(e) Only flip": (129.9, 117.6, 101.1),
    "(f) Only sync": (113.7, 102.4, 80.3),
    "(g) Both sync & flip": (104.9, 91.7, 78.4),
    "(h) Fusion concat": (180.0, 162.5, 130.5),
    "(i) Fusion add": (169.4, 158.4, 122.8),
    "(j) Fusion diff": (108.2, 93.9, 80.4),
    "(k) Fusion mult": (104.9, 91.7, 78.4),
    "(l) Single-view SSL": (158.3, 142.0, 106.9),
    "(m) Multi-view SSL": (104.9, 91.7, 78.4),
}
SCALES = {
    "smoke": dict(
        subjects=("S1", "S5", "S9"),
        actions=("walk",),
        repetitions=2,
        frames=24,
        size=32,
        crop_size=32,
        steps=2,
        long_steps=4,
        stage_steps=2,
        batch=2,
        lr=1e-3,
        pose_epochs=1,
        pose_lr=1e-3,
        train_stride=4,
        test_stride=8,
        gap_centres=(8,),
        gap_pairs=2,
        seeds=1,
    ),
    "quick": dict(
        subjects=TRAIN_SUBJECTS + TEST_SUBJECTS,
        actions=ACTIONS,
        repetitions=2,
        frames=96,
        size=64,
        crop_size=64,
        steps=300,
        long_steps=600,
        stage_steps=300,
        batch=4,
        lr=1e-3,
        pose_epochs=2,
        pose_lr=1e-3,
        train_stride=2,
        test_stride=8,
        gap_centres=(8, 24, 40, 56, 72),
        gap_pairs=32,
        seeds=1,
    ),
    "full": dict(
        subjects=TRAIN_SUBJECTS + TEST_SUBJECTS,
        actions=ACTIONS,
        repetitions=6,  # the issue's >= 6: more orientations and poses per subject
        frames=96,
        size=64,
        crop_size=64,
        # The thesis's lr 1e-4, long enough to learn sync: at lr 1e-3 and 2000 steps sync stayed at chance
        # (0.51, table rows of the earlier settings); a pilot of (f) at lr 1e-4 reached 0.81 on training
        # pairs after 8000 steps (held-out repetitions 0.61-0.72), about 55 minutes on one thread.
        steps=8000,
        # The long row: 3x the steps, the schedule ending at its last (the rows above keep lr ~1e-4
        # throughout: their cosine spans 1000 epochs, of which 8000 steps are 0.2 %).
        long_steps=24000,
        stage_steps=4000,
        batch=4,
        lr=1e-4,
        pose_epochs=4,
        pose_lr=1e-3,
        train_stride=2,
        test_stride=8,
        gap_centres=(8, 16, 24, 32, 40, 48, 56, 64, 72, 80),
        gap_pairs=64,
        seeds=3,
    ),
}
SMOKE_ROWS = ("(b) Random without background", "(d) SSL without background", LONG_ROW)
QUICK_ROWS = (
    "(a) Random with background",
    "(b) Random without background",
    "(c) SSL with background",
    "(d) SSL without background",
)
# Run order (the table keeps the thesis's): the random rows, then the first claim's SSL row (d), then (c).
FULL_ROWS = (
    "(a) Random with background",
    "(b) Random without background",
    "(d) SSL without background",
    "(c) SSL with background",
    "(f) Only sync",
    "(e) Only flip",
    "(l) Single-view SSL",
    LONG_ROW,
)
SEEDED = ("(b) Random without background", "(c) SSL with background", "(d) SSL without background")
CLAIMS = (  # (better, worse): lower MPJPE; fixed before the runs
    ("(d) SSL without background", "(b) Random without background"),
    ("(d) SSL without background", "(c) SSL with background"),
    ("(c) SSL with background", "(a) Random with background"),
    (LONG_ROW, "(b) Random without background"),
    (LONG_ROW, "(d) SSL without background"),
)
PLOT = Path(__file__).resolve().parent / "results" / "multiview_sync_by_gap.png"
PAIRS_PICTURE = PLOT.with_name("multiview_training_pairs.png")
GATE_STEPS = {"smoke": 5, "quick": 200, "full": 1000}  # the mirror CNN's steps (the pose oracle trains 2x)
SYNC_TARGET = 0.8  # held-out sync accuracy a pretext must reach before its table row is trusted
HELD_OUT_GROUP = "training subjects S1, S5 (held-out repetition)"  # the gate's reading
TEST_GROUP = "test subjects (S9, S11)"


def _studio(scale: dict) -> Path:
    root = CACHE / (
        f"f{scale['frames']}_s{scale['size']}_r{scale['repetitions']}_{len(scale['subjects'])}x{len(scale['actions'])}"
    )
    write_procedural_multiview(
        root,
        scale["subjects"],
        scale["actions"],
        scale["frames"],
        scale["size"],
        seed=0,
        repetitions=scale["repetitions"],
    )
    return root


def _repetition_names(scale: dict, held_out: bool) -> list[str]:
    """Sequence folder names: every repetition but the last pretrains; the last is held out."""
    names = []
    for action in scale["actions"]:
        repeats = [action] + [f"{action}_{r + 1}" for r in range(1, scale["repetitions"])]
        names += repeats[-1:] if held_out else repeats[:-1]
    return names


def _folder(root: Path, scale: dict, background: str, **selection) -> MultiViewFolder:
    return MultiViewFolder(root, background=background, crop="subject", image_size=scale["crop_size"], **selection)


def _pair_transforms(spec: dict) -> list:
    transforms = []
    if "sync" in spec["signals"]:
        transforms.append(Synchronization(single_view=spec["single_view"]))
    if "flip" in spec["signals"]:
        transforms.append(Flip(single_view=spec["single_view"]))
    return transforms


def _sync_curves(model, root: Path, spec: dict, scale: dict, seed: int) -> dict[str, dict[int, float]]:
    """Fig. 6.4: sync accuracy by gap on the test subjects and on held-out repetitions of S1 and S5."""
    groups = {
        TEST_GROUP: dict(split="test"),
        HELD_OUT_GROUP: dict(subjects=["S1", "S5"], actions=_repetition_names(scale, held_out=True)),
    }
    curves = {}
    for group, selection in groups.items():
        folder = _folder(root, scale, spec["background"], **selection)
        pairs = MultiViewPairs(folder, TransformSet(_pair_transforms(spec)), seed=seed, hflip=False)
        curves[group] = sync_accuracy_by_gap(model, pairs, scale["gap_centres"], scale["gap_pairs"], seed=seed)
    return curves


PRETEXT_AUGMENT = RandomCropFlip(padding=0, hflip=True)
"""Both frames of a pair mirrored together with probability 1/2 (sec. 6.2.3), no crop: without it
the mirrored frame of a flipped pair is the only mirrored image the network sees, and flip
reduces to "is either frame mirrored?"."""


def pretext_trainer(
    backbone: torch.nn.Module, folder: MultiViewFolder, spec: dict, scale: dict, seed: int, out: Path, **length
) -> Trainer:
    """The Trainer of one row's sync / flip pretext, as every SSL row of the table builds it."""
    return Trainer(
        transforms=_pair_transforms(spec),
        backbone=backbone,
        data=folder,
        **length,
        batch_size=scale["batch"],
        lr=scale["lr"],
        final_lr=scale["lr"] * 1e-3,
        betas=(0.9, 0.999),
        augment=PRETEXT_AUGMENT,
        seed=seed,
        **resumable_trainer_options(out),
    )


def _pretrain(root: Path, spec: dict, scale: dict, seed: int, out: Path) -> tuple[torch.nn.Module, dict]:
    """The row's pretext, trained in ``out`` (resumed from its checkpoint if a cut-off run left one).

    A long row trains in stages of ``stage_steps`` (each resumes the previous one's checkpoint, so
    the run is the uninterrupted one) and measures held-out sync after each, kept in ``out`` so a
    run cut off between stages keeps the points it measured.
    """
    torch.manual_seed(seed)
    backbone = build_backbone("siamese", trunk="resnet18", fusion=spec["fusion"])
    folder = _folder(root, scale, spec["background"], split="train", actions=_repetition_names(scale, held_out=False))
    if spec.get("long"):
        length = dict(steps=scale["long_steps"])
        stages = list(range(scale["stage_steps"], scale["long_steps"], scale["stage_steps"])) + [scale["long_steps"]]
    else:  # the 8000-step table: a cosine over 1000 epochs, cut at max_steps (lr stays ~1e-4)
        length = dict(epochs=1000)
        stages = [scale["steps"]]
    points_file = out / "sync_by_step.json"
    sync_by_step = json.loads(points_file.read_text()) if points_file.exists() else {}
    for stage_end in stages:
        curves = None  # after the loop: the final model's curves, when this process measured them
        trainer = pretext_trainer(backbone, folder, spec, scale, seed, out, max_steps=stage_end, **length)
        summary = trainer.fit()
        if spec.get("long") and str(stage_end) not in sync_by_step:
            curves = _sync_curves(trainer.model, root, spec, scale, seed)
            sync_by_step[str(stage_end)] = {group: _mean_sync(curve) for group, curve in curves.items()}
            print(f"    step {stage_end}: sync {sync_by_step[str(stage_end)]}", flush=True)
            points_file.with_suffix(".tmp").write_text(json.dumps(sync_by_step))
            os.replace(points_file.with_suffix(".tmp"), points_file)
    pretext = {k: v for k, v in summary["final_metrics"].items() if k.startswith("acc/")}
    extra: dict = {"pretext": pretext, "pretrain_steps": summary["steps"]}
    if sync_by_step:
        extra["sync_by_step"] = sync_by_step
    if "sync" in spec["signals"]:
        extra["sync_by_gap"] = curves if curves is not None else _sync_curves(trainer.model, root, spec, scale, seed)
        extra["sync_pair_cameras"] = "one" if spec["single_view"] else "two"  # (l) is measured on its own task
    return backbone, extra


def _mean_sync(curve: dict) -> float:
    """One number for a sync-by-gap curve: its mean over the gap centres (the held-out sync gate's reading)."""
    return sum(curve.values()) / len(curve)


def _poses(root: Path, scale: dict, background: str, stride: int, **selection) -> MultiViewPoses:
    return MultiViewPoses(
        root, background=background, stride=stride, crop="subject", image_size=scale["crop_size"], **selection
    )


def _transfer(root: Path, backbone, background: str, scale: dict, seed: int) -> dict:
    train = _poses(root, scale, background, scale["train_stride"], subjects=["S1"])
    test = _poses(root, scale, background, scale["test_stride"], split="test")
    result = pose3d_transfer(
        backbone,
        train,
        test,
        epochs=scale["pose_epochs"],
        lr=scale["pose_lr"],
        final_lr=scale["pose_lr"] * 1e-3,
        seed=seed,
    )
    return {"test": result["test"], "train": result["train"], "transfer_items": [len(train), len(test)]}


def _data_gates(root: Path, scale: dict, suite: str) -> dict:
    """The studio's data gates (:mod:`benchmarks.multiview_gates`) on the pretext's training repetitions."""
    return data_gates(
        root,
        _repetition_names(scale, held_out=False),
        _repetition_names(scale, held_out=True),
        scale["crop_size"],
        scale["frames"],
        GATE_STEPS[suite],
    )


def _mean_pose_row(root: Path, scale: dict) -> dict:
    """The error of predicting S1's mean pose for every test image: what 'no image information' scores.

    Poses are in the virtually centred camera of the subject crop, as the transfer's targets."""
    train = MultiViewPoses(root, subjects=["S1"], stride=scale["train_stride"], crop="subject")
    test = MultiViewPoses(root, split="test", stride=scale["test_stride"], crop="subject")
    truth = test.poses()
    return {"test": pose_errors(train.poses().mean(0).expand_as(truth), truth)}


def _one_run(root: Path, row: str, scale: dict, seed: int, out: Path) -> dict:
    spec = ROWS[row]
    started = time.perf_counter()
    if spec.get("random"):
        torch.manual_seed(seed)
        backbone, extra = build_backbone("siamese", trunk="resnet18"), {}
    else:
        backbone, extra = _pretrain(root, spec, scale, seed, out)
    return {
        **_transfer(root, backbone, spec["background"], scale, seed),
        **extra,
        "seconds": time.perf_counter() - started,
        "torch_threads": torch.get_num_threads(),
    }


def run(suite: str = "quick", seeds: int | None = None, finished_only: bool = False) -> dict:
    """Smoke: 3 tiny subjects, 2 rows. Quick: the background rows (a)-(d), one seed. Full: the rows of
    table 6.1 that the issue asks for, ``seeds`` (default 3) on the rows of ``SEEDED``.

    One torch thread by default (``--threads``): the same command started twice fills the table on two
    cores (runs are claimed); each run records its thread count.
    """
    scale = dict(SCALES[suite])
    scale["seeds"] = seeds or scale["seeds"]
    with benchmark_threads():
        partial = PartialResults.of_benchmark(NAME, suite, finished_only)
        started = time.perf_counter()
        root = None if finished_only else _studio(scale)
        generation = time.perf_counter() - started
        rows = {"smoke": SMOKE_ROWS, "quick": QUICK_ROWS, "full": FULL_ROWS}[suite]
        gates = partial.get_or_run("data_gates", lambda: _data_gates(root, scale, suite))
        if suite == "full" and root is not None:
            train = _folder(root, scale, "remove", split="train", actions=_repetition_names(scale, held_out=False))
            draw_training_pairs(train, PAIRS_PICTURE)
        mean_pose = partial.get_or_run("mean_pose", lambda: _mean_pose_row(root, scale))
        results = seeded_runs(
            partial,
            rows,
            SEEDED,
            scale["seeds"],
            lambda row, seed, out: _one_run(root, row, scale, seed, out),
            lambda out: f"MPJPE {out['test']['mpjpe']:.1f} pretext {out.get('pretext')}",
        )
    result = {
        "scale": {k: list(v) if isinstance(v, tuple) else v for k, v in scale.items()},
        "generation_seconds": generation,
        "torch_threads": _run_threads(results),
        "mean_pose": mean_pose,
        "data_gates": gates,
        "generator_version": GENERATOR_VERSION,
        "rows": results,
        "missing": partial.missing,
    }
    if suite != "smoke":
        plot(result)
    return result


def plot(result: dict) -> Path | None:
    """Fig. 6.4's shape: sync accuracy by gap of row (d), per group of subjects, mean ± sd over seeds."""
    curves = _plot_curves(result)
    if not curves:
        return None
    title = "Fig. 6.4 at small scale: sync accuracy of (d) SSL without background by time gap"
    return sync_accuracy_by_gap_plot(curves, title, PLOT)


def _plot_curves(result: dict) -> dict[str, list[dict]]:
    if "mean_pose" not in result:  # stored before the seeded table: no curves
        return {}
    curves: dict[str, list[dict]] = {}
    for run in result["rows"].get("(d) SSL without background", []):
        for group, curve in run.get("sync_by_gap", {}).items():
            curves.setdefault(group, []).append(curve)
    return curves


def _errors_cell(runs: list[dict], metric: str) -> str:
    return format_mean_sd([r["test"][metric] for r in runs], scale=1)


def to_markdown(result: dict) -> str:
    scale = result["scale"]
    rows = result["rows"]
    if "mean_pose" not in result or not all(isinstance(runs, list) for runs in rows.values()):
        return (
            "The stored results predate the seeded table (generator v3, 32 px whole frames, one seed) and are not "
            "shown; regenerate them with `python -m benchmarks run --suite full --only multiview_tables`."
        )
    first = next((r[0] for r in rows.values() if r), None)
    items = (
        f"{first['transfer_items'][0]} S1 training / {first['transfer_items'][1]} test images"
        if first
        else "no transfer run yet"
    )
    lines = []
    if _plot_curves(result) and PLOT.exists():
        lines += [f"![sync accuracy by gap]({PLOT.relative_to(PLOT.parents[1]).as_posix()})", ""]
    lines += [
        f"Data: procedural multi-view studio (`transformrec make-multiview`, generator version "
        f"{result.get('generator_version', '4 or older')}; from version 5 every sequence has its own place in the room "
        "and a slow drift, and turn and wave move every limb), "
        f"{len(scale['subjects'])} subjects x {len(scale['actions'])} actions x {scale['repetitions']} repetitions x "
        f"4 cameras x {scale['frames']} frames, rendered at {scale['size']} px, subject-centred crops resized to "
        f"{scale['crop_size']} px (poses in the virtually centred camera; sec. 6.2.3-6.2.4). Pretext: Siamese "
        f"ResNet-18 (standard stem: layer4 sees a {scale['crop_size'] // 32}x{scale['crop_size'] // 32} map), "
        f"{scale['steps']} steps of {scale['batch']} anchors (each giving its synchronized / unsynchronized / "
        f"flipped pairs; d_min 4, d_max 128) on every repetition but the last of the training subjects, AdamW "
        f"(0.9, 0.999), wd 1e-4, lr {scale['lr']:g} (a cosine to x1e-3 scheduled over 1000 epochs, so the lr stays "
        f"within 0.01 % of {scale['lr']:g} for these steps; the thesis decays it to x1e-3 over its 200K: see the long "
        "row). Transfer: trunk + linear head on S1 (every "
        f"{scale['train_stride']}-th frame), stem + layer1-3 frozen, joint image/pose mirroring, "
        f"{scale['pose_epochs']} epochs, batch 16, lr {scale['pose_lr']:g} -> x1e-3; tested on S9 and S11 (every "
        f"{scale['test_stride']}-th frame); {items}. Errors in mm with the 17/16 correction. Seeds: "
        f"{scale['seeds']} on {', '.join(SEEDED)}; the other rows are single-seed (seed 0). Cells: mean ± sd. "
        f"Held-out sync: mean accuracy over the gap centres on the last repetition of S1 and S5 (the issue's "
        "target is ≥ 0.8). "
        f"{_threads_sentence(rows)} Thesis numbers (Human3.6M, 200K iterations, 224 px) beside ours.",
        "",
        *(
            [
                "Data gates of this studio (training subjects; `benchmarks/multiview_gates.py`):",
                "",
                *gate_lines(gates),
                "",
            ]
            if (gates := result.get("data_gates"))
            else []
        ),
        *(
            [f"![pretext pairs]({PAIRS_PICTURE.relative_to(PLOT.parents[1]).as_posix()})", ""]
            if PAIRS_PICTURE.exists()
            else []
        ),
        "| ablation | seeds | MPJPE | NMPJPE | PMPJPE | pretext accuracy | held-out sync | test-subject sync | "
        "thesis MPJPE / NMPJPE / PMPJPE | minutes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    mean_pose = result["mean_pose"]
    if mean_pose is not None:
        errors = mean_pose["test"]
        lines.append(
            f"| Mean training pose (no image) | – | {errors['mpjpe']:.1f} | {errors['nmpjpe']:.1f} | "
            f"{errors['pmpjpe']:.1f} | – | – | – | – | – |"
        )
    untrained: list[str] = []
    cross_view_measured: set[str] = set()
    for row in ORDER:
        runs = rows.get(row)
        if not runs:
            continue
        pretext = ", ".join(f"{k.split('/')[1]} {v:.2f}" for k, v in runs[0].get("pretext", {}).items()) or "–"
        sync = {}
        for group, key in ((HELD_OUT_GROUP, "held"), (TEST_GROUP, "test")):
            means = [
                _mean_sync(curve) for r in runs for name, curve in r.get("sync_by_gap", {}).items() if group in name
            ]
            sync[key] = format_mean_sd(means) if means else "–"
            if means and ROWS[row].get("single_view") and any("sync_pair_cameras" not in r for r in runs):
                sync[key] += " †"  # stored before one-camera measurement: not the task (l) trained on
                cross_view_measured.add(row)
            elif key == "held" and means and sum(means) / len(means) < SYNC_TARGET:
                sync[key] += " ✗"
                untrained.append(row)
        thesis = THESIS_6_1.get(row)
        reference = " / ".join(f"{x:.1f}" for x in thesis) if thesis else "–"
        minutes = sum(r["seconds"] for r in runs) / len(runs) / 60
        lines.append(
            f"| {row} | {len(runs)} | {_errors_cell(runs, 'mpjpe')} | {_errors_cell(runs, 'nmpjpe')} | "
            f"{_errors_cell(runs, 'pmpjpe')} | {pretext} | {sync['held']} | {sync['test']} | {reference} | "
            f"{minutes:.1f} |"
        )
    lines += ["", "| claim (fixed before the runs) | paired MPJPE difference, worse − better (mm) |", "|---|---|"]
    for better, worse in CLAIMS:
        if better in rows and worse in rows:
            ordering = paired_by_seed(rows[worse], rows[better], lambda r: r["test"]["mpjpe"])
            lines.append(f"| {better} has lower MPJPE than {worse} | {format_ordering(ordering, scale=1)} |")
    lines += [
        "",
        "The mean-pose row predicts S1's mean pose for every test image (no image information): a row must beat "
        "it to show that its features carry pose. Rows (g), (k) and (m) of the thesis are row (d) itself.",
    ]
    lines += _long_row_lines(rows.get(LONG_ROW, []), scale)
    if cross_view_measured:
        lines += [
            "",
            f"† {', '.join(sorted(cross_view_measured))}: sync measured on pairs from two cameras (the multi-view "
            "task), not on the one-camera pairs this row trained on, so it is no reading of the gate: chance here "
            "says the one-camera pretext learned nothing that matches frames across cameras. Runs from now on are "
            "measured on one-camera pairs.",
        ]
    if untrained:
        lines += [
            "",
            f"✗ Held-out sync below {SYNC_TARGET:.0%} (the accuracy the pretext must reach before its transfer is "
            f"read as the thesis's claim): {', '.join(untrained)}. Those rows learned synchronization only partly "
            "in their pretext steps (chance is 50%), so their transfer does not yet test the thesis's claim.",
        ]
    lines += missing_runs_lines(result.get("missing", []))
    return "\n".join(lines)


def _run_threads(rows: dict[str, list[dict]]) -> int | str:
    """The hardware line's thread count: the runs' one count, or their counts when they differ.

    Runs stored before they recorded it ran with one (the benchmark then always set one thread).
    """
    counts = sorted({run.get("torch_threads", 1) for runs in rows.values() for run in runs}) or [1]
    return counts[0] if len(counts) == 1 else f"{' or '.join(map(str, counts))} by run (see the table text)"


def _threads_sentence(rows: dict[str, list[dict]]) -> str:
    """Torch threads per run, naming the runs that trained with more than one (their minutes are not comparable).

    Runs stored before they recorded it ran with one: the benchmark then always set one thread."""
    more = [
        f"{row} seed {run['seed']}: {run['torch_threads']}"
        for row, runs in rows.items()
        for run in runs
        if run.get("torch_threads", 1) != 1
    ]
    return "Torch threads: 1 per run" + (f", except {'; '.join(more)}." if more else ".")


def _long_row_lines(runs: list[dict], scale: dict) -> list[str]:
    """How the long row was trained, and its held-out sync at each stage (from its finished runs)."""
    lines = [
        "",
        f"{LONG_ROW}: row (d) with {scale['long_steps']} pretext steps and the thesis's schedule (lr {scale['lr']:g} "
        f"-> x1e-3 cosine ending at the last step), held-out sync measured every {scale['stage_steps']} steps. "
        "Fixed before it ran: seed 0 first; seeds 1-2, and row (c) at the same length, only if seed 0 ends at "
        f"held-out sync ≥ {SYNC_TARGET:.0%}; claims: lower MPJPE than (b) and than (d) at {scale['steps']} steps "
        "(paired by seed).",
    ]
    staged = [run for run in runs if run.get("sync_by_step")]
    if not staged:
        return lines
    groups = list(next(iter(staged[0]["sync_by_step"].values())))
    lines += [
        "",
        f"| seed | pretext step | {' | '.join(f'sync, {group}' for group in groups)} |",
        f"|---|---|{'---|' * len(groups)}",
    ]
    for run in staged:
        for step, means in sorted(run["sync_by_step"].items(), key=lambda item: int(item[0])):
            cells = " | ".join(f"{100 * means[group]:.1f}" for group in groups)
            lines.append(f"| {run['seed']} | {step} | {cells} |")
    return lines + _long_row_outcome(staged, scale)


def _long_row_outcome(staged: list[dict], scale: dict) -> list[str]:
    """What the fixed rule decides from seed 0's last stage, and how its training pairs compare with held-out ones."""
    first = next((run for run in staged if run["seed"] == 0), None)
    if first is None or str(scale["long_steps"]) not in first["sync_by_step"]:
        return []
    by_step = {int(step): means for step, means in first["sync_by_step"].items()}
    final = by_step[scale["long_steps"]][HELD_OUT_GROUP]
    verdict = (
        "seeds 1-2 and row (c) at this length follow"
        if final >= SYNC_TARGET
        else "seeds 1-2 and row (c) at this length are not run"
    )
    lines = [
        "",
        f"Seed 0 ended at held-out sync {final:.1%} ({'≥' if final >= SYNC_TARGET else '<'} "
        f"{SYNC_TARGET:.0%}): by the rule above, {verdict}.",
    ]
    trained = first.get("pretext", {}).get("acc/sync")
    if trained is not None and scale["steps"] in by_step:
        lines[-1] += (
            f" Sync on its own training pairs (mean of its last epoch) ended at {trained:.2f}, on held-out "
            f"repetitions of the same subjects at {final:.2f}; "
            f"{scale['long_steps'] // scale['steps']}× the steps moved held-out sync from "
            f"{by_step[scale['steps']][HELD_OUT_GROUP]:.1%} (step {scale['steps']}) to {final:.1%}."
        )
    return lines
