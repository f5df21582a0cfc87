"""Rotation + warp pretraining vs random init vs raw pixels, linear probe per layer, over seeds.

The claim behind the README's main job (and tables 4.2, 4.5 of the thesis): features learned by
recognising rotations and warps classify objects better than the same network at random init, and
better than the pixels themselves. Each data set runs its shipped config through the same code as
``transformrec demo``, once per seed: the seed sets the pretext initialisation and data order, the
random-init baseline, and the probe's labelled subset and minibatch order, so the rows of one seed
are paired. Claims fixed before the runs (see :mod:`benchmarks.seed_statistics` for the labels):

  1. rot + warp > random init at conv5 (the layer the thesis transfers from in table 3.2);
  2. rot + warp > random init at the best layer of each (the number ``transformrec demo`` prints;
     the best layer is picked on the test split, so it is optimistic for both rows alike);
  3. rot + warp at its best layer > a linear probe on raw pixels.

Data sets: ``upright_objects`` (``configs/quickstart.yaml``, the demo itself), ``fashion_on_noise``
and ``fashion_mnist`` (skipped, and said so, when Debian's ``dataset-fashion-mnist`` is missing).
Per-seed results are stored in ``results/rot_warp_probe.partial.json`` as they finish, so an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import Subset

from benchmarks.partial_results import PartialResults
from benchmarks.plots import probe_accuracy_per_layer
from benchmarks.seed_statistics import format_mean_sd, format_ordering, paired_ordering
from transformrec import experiment
from transformrec.config.build import build_data
from transformrec.config.loading import load_config
from transformrec.data.fashion_mnist import DEBIAN_DIR
from transformrec.eval.features import dataset_labels, dataset_num_classes, standardization_stats
from transformrec.eval.linear_probe import fit_linear_classifier
from transformrec.eval.low_shot import low_shot_indices

NAME = "rot_warp_probe"
ROOT = Path(__file__).resolve().parent.parent
PARTIAL = Path(__file__).resolve().parent / "results" / f"{NAME}.partial.json"
SMOKE = [
    "train.epochs=1",
    "evaluation.labels_per_class=5",
    "evaluation.options={epochs: 3}",
]
DATASETS = {
    "upright_objects": {
        "config": "configs/quickstart.yaml",
        "needs_fashion_mnist": False,
        "smoke": [*SMOKE, "data.num_samples=256", "evaluation.test_data.num_samples=200"],
        "quick": [],
        "full": [],
    },
    "fashion_on_noise": {
        "config": "configs/fashion_on_noise_rot_warp.yaml",
        "needs_fashion_mnist": True,
        "smoke": [*SMOKE, "data.num_samples=256", "evaluation.test_data.num_samples=200"],
        "quick": [],
        "full": [],
    },
    "fashion_mnist": {
        "config": "configs/fashion_mnist_rot_warp.yaml",
        "needs_fashion_mnist": True,
        "smoke": [*SMOKE, "data.limit=256", "evaluation.test_data.limit=200"],
        "quick": [],
        "full": [],
    },
}
DEFAULT_SEEDS = {"smoke": 1, "quick": 1, "full": 3}


def _flattened(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """Every item of ``dataset`` read once: ``N×D`` flattened images and ``N`` labels."""
    images, labels = zip(*(dataset[i] for i in range(len(dataset))), strict=True)
    return torch.stack(images).flatten(1), torch.as_tensor(labels, dtype=torch.long)


def pixel_probe(train_set, test_set, labels_per_class: int, seed: int, epochs: int) -> float:
    """Test accuracy of the same logistic regression on standardized raw pixels (the no-learning floor)."""
    chosen = low_shot_indices(dataset_labels(train_set), labels_per_class, seed).tolist()
    train_x, train_y = _flattened(Subset(train_set, chosen))
    test_x, test_y = _flattened(test_set)
    mean, std = standardization_stats(train_x)
    num_classes = dataset_num_classes(train_set, train_y)
    classifier = fit_linear_classifier((train_x - mean) / std, train_y, num_classes, epochs, seed=seed)
    with torch.no_grad():
        predictions = classifier((test_x - mean) / std).argmax(1)
    return float((predictions == test_y).float().mean())


def _one_seed(dataset: str, suite: str, seed: int) -> dict:
    spec = DATASETS[dataset]
    overrides = [*spec[suite], f"seed={seed}"]
    with tempfile.TemporaryDirectory() as out:
        config = load_config(ROOT / spec["config"], [*overrides, f"output_dir={out}"])
        summary = experiment.pretrain(config, progress=False)
        results = experiment.evaluate(config)
    evaluation = config.evaluation
    pixels = pixel_probe(
        build_data(evaluation.train_data),
        build_data(evaluation.test_data),
        evaluation.labels_per_class,
        seed,
        int(evaluation.options.get("epochs", 100)),
    )
    return {
        "overrides": overrides,
        "pretext": {
            "steps": summary["steps"],
            "wall_seconds": summary["wall_seconds"],
            "acc": summary["final_metrics"].get("acc/transform"),
        },
        "settings": results["pretrained"]["settings"],
        "pretrained": {t: v["test_acc"] for t, v in results["pretrained"]["per_tap"].items()},
        "random": {t: v["test_acc"] for t, v in results["random"]["per_tap"].items()},
        "pixels": pixels,
    }


def _timed(dataset: str, suite: str, seed: int) -> dict:
    started = time.perf_counter()
    return {**_one_seed(dataset, suite, seed), "seconds": time.perf_counter() - started}


def run(suite: str = "quick", seeds: int | None = None, write_partial: bool = True) -> dict:
    """Every data set × ``seeds`` seeds (default: 3 for ``full``, 1 otherwise); see the module docstring."""
    seeds = seeds or DEFAULT_SEEDS[suite]
    have_fashion = os.path.isdir(DEBIAN_DIR)
    partial = PartialResults(PARTIAL, enabled=write_partial and suite != "smoke")
    result: dict = {"suite": suite, "seeds": list(range(seeds)), "datasets": {}, "skipped": []}
    for dataset, spec in DATASETS.items():
        if spec["needs_fashion_mnist"] and not have_fashion:
            result["skipped"].append(f"{dataset}: dataset-fashion-mnist is not installed")
            continue
        runs = []
        for seed in range(seeds):
            runs.append(partial.get_or_run(f"{suite}/{dataset}/{seed}", lambda d=dataset, s=seed: _timed(d, suite, s)))
        result["datasets"][dataset] = {"config": spec["config"], "runs": runs}
    return result


def _claims(runs: list[dict], taps: list[str]) -> dict[str, dict]:
    pretrained = [[r["pretrained"][t] for t in taps] for r in runs]
    random = [[r["random"][t] for t in taps] for r in runs]
    conv5 = taps.index("conv5") if "conv5" in taps else len(taps) - 1
    return {
        f"rot + warp > random init at {taps[conv5]}": paired_ordering(
            [p[conv5] for p in pretrained], [r[conv5] for r in random]
        ),
        "rot + warp > random init, best layer of each": paired_ordering(
            [max(p) for p in pretrained], [max(r) for r in random]
        ),
        "rot + warp (best layer) > raw pixels": paired_ordering(
            [max(p) for p in pretrained], [r["pixels"] for r in runs]
        ),
    }


PLOT = Path(__file__).resolve().parent / "results" / "rot_warp_probe_layers.png"


def plot(result: dict) -> Path | None:
    """The per-layer probe accuracies of every data set as one labelled figure."""
    return probe_accuracy_per_layer(result, PLOT) if result.get("datasets") else None


def to_markdown(result: dict) -> str:
    lines = [
        f"![probe accuracy per layer, pretrained vs random init]({PLOT.relative_to(PLOT.parents[1]).as_posix()})",
        "",
        f"Seeds: {', '.join(map(str, result['seeds']))} ({len(result['seeds'])} per row"
        + ("; every row is single-seed" if len(result["seeds"]) < 2 else "")
        + "). Cells: linear-probe test accuracy in %, mean ± sd over seeds. Paired differences in points, "
        "labelled *holds* (beyond 2 sd of the paired differences), *within noise* or *reversed*.",
    ]
    for skipped in result["skipped"]:
        lines += ["", f"Skipped: {skipped}."]
    for dataset, entry in result["datasets"].items():
        runs = entry["runs"]
        taps = list(runs[0]["pretrained"])
        settings = runs[0]["settings"]
        pretext = runs[0]["pretext"]
        seconds = [r["seconds"] for r in runs]
        lines += [
            "",
            f"### {dataset}",
            "",
            f"Config `{entry['config']}` (overrides: {' '.join(runs[0]['overrides'][:-1]) or 'none'}); pretext "
            f"{pretext['steps']} steps, final 5-way transform accuracy "
            f"{format_mean_sd([r['pretext']['acc'] for r in runs])} %; probe: {settings['labels_per_class']} "
            f"labels per class ({settings['num_train']} images), {settings['num_test']} test images, "
            f"{settings['epochs']} epochs, every tap resized to ~{settings['target_dim']} dims "
            f"(`resize: {settings.get('resize', 'down')}`), augment views {settings.get('augment_views', 0)}. "
            f"Wall time per seed (pretext + 2 probes + pixels): {sum(seconds) / len(seconds):.0f} s.",
            "",
            "| row | " + " | ".join(taps) + " | best layer |",
            "|---|" + "---|" * (len(taps) + 1),
            "| raw pixels | " + " | ".join("" for _ in taps) + f" | {format_mean_sd([r['pixels'] for r in runs])} |",
        ]
        for label, row in (("random init", "random"), ("rot + warp", "pretrained")):
            cells = [format_mean_sd([r[row][t] for r in runs]) for t in taps]
            best = format_mean_sd([max(r[row].values()) for r in runs])
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {best} |")
        gains = [
            format_ordering(paired_ordering([r["pretrained"][t] for r in runs], [r["random"][t] for r in runs]))
            for t in taps
        ]
        lines.append("| gain over random (paired) | " + " | ".join(gains) + " | |")
        lines += ["", "| claim (fixed before the runs) | paired difference (points) |", "|---|---|"]
        for claim, ordering in _claims(runs, taps).items():
            lines.append(f"| {claim} | {format_ordering(ordering)} |")
    return "\n".join(lines)
