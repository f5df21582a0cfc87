"""Rotation + warp pretraining on Fashion-MNIST vs random init: linear probe per layer, 100 labels/class.

Runs ``configs/fashion_mnist_rot_warp.yaml`` through the same code as ``transformrec demo`` and
records the per-tap test accuracy of both backbones, plus the pretext training summary.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from transformrec import experiment
from transformrec.config.loading import load_config

NAME = "fmnist_probe"
CONFIG = Path(__file__).resolve().parent.parent / "configs" / "fashion_mnist_rot_warp.yaml"


OVERRIDES = {
    "smoke": [
        "data.limit=512",
        "train.epochs=1",
        "evaluation.labels_per_class=10",
        "evaluation.options={epochs: 5}",
        "evaluation.test_data={name: fashion_mnist, split: test, image_size: 32, limit: 500}",
    ],
    "quick": ["data.limit=20000", "train.epochs=3"],
    "full": ["data.limit=null", "train.epochs=8"],
}


def run(suite: str = "quick") -> dict:
    """Smoke: 512 images, 1 epoch, 500 test images. Quick: 20k training images, 3 epochs. Full: all 60k, 8 epochs."""
    overrides = OVERRIDES[suite]
    with tempfile.TemporaryDirectory() as out:
        config = load_config(CONFIG, [*overrides, f"output_dir={out}"])
        summary = experiment.pretrain(config, progress=False)
        results = experiment.evaluate(config)
    taps = list(results["pretrained"]["per_tap"])
    return {
        "config": str(CONFIG.relative_to(CONFIG.parent.parent)),
        "overrides": overrides,
        "pretext": {k: summary[k] for k in ("steps", "wall_seconds", "images_per_second", "final_metrics")},
        "labels_per_class": config.evaluation.labels_per_class,
        "taps": taps,
        "pretrained": {t: results["pretrained"]["per_tap"][t]["test_acc"] for t in taps},
        "random": {t: results["random"]["per_tap"][t]["test_acc"] for t in taps},
    }


def to_markdown(result: dict) -> str:
    taps = result["taps"]
    pretext = result["pretext"]
    lines = [
        f"Data: Fashion-MNIST (Debian `dataset-fashion-mnist`), 32x32, pretext on the train split "
        f"({result['config']} with {' '.join(result['overrides'])}); linear probe trained on "
        f"{result['labels_per_class']} labels per class of the train split, tested on the 10k test split.",
        f"Pretext: {pretext['steps']} steps in {pretext['wall_seconds']:.0f} s, final transform accuracy "
        f"{pretext['final_metrics'].get('acc/transform', float('nan')):.3f} (5-way: identity, rot90/180/270, warp).",
        "",
        "| initialisation | " + " | ".join(taps) + " |",
        "|---|" + "---|" * len(taps),
    ]
    for label in ("random", "pretrained"):
        lines.append(f"| {label} | " + " | ".join(f"{100 * result[label][t]:.1f}%" for t in taps) + " |")
    gain = [100 * (result["pretrained"][t] - result["random"][t]) for t in taps]
    lines.append("| gain (points) | " + " | ".join(f"{g:+.1f}" for g in gain) + " |")
    return "\n".join(lines)
