"""Tables 4.1 and 4.2 at small scale: which transforms, and which LCI design choices, give better features.

Every row pretrains the same AlexNet-BN on the same Fashion-MNIST images with a different
TransformSet (table 4.2) or a different LCI ablation (table 4.1, LCI as the only transform), then
trains linear probes on conv1–conv5 with the same labelled subset, so rows differ only in the
pretext task. A small procedural-scene run repeats the key rows of table 4.2 on synthetic colour
images. The thesis's STL-10 numbers are printed beside ours, and every pair of rows whose
conv5 order differs from the thesis's is listed.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.probing import TAPS, probe_conv_layers
from transformrec import experiment
from transformrec.cli.show import render_transform_grid
from transformrec.config.build import build_data
from transformrec.config.loading import load_config

NAME = "lci_tables"
ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "fashion_mnist_rot_warp.yaml"
PICTURE = Path(__file__).resolve().parent / "results" / "lci_examples.png"
PARTIAL = Path(__file__).resolve().parent / "results" / "lci_tables.partial.json"
LCI = "{name: lci, width: 32, patch_size: 0.75, border: 2}"

TABLE_4_2 = {
    "Random": None,
    "Warp": "[identity, warp]",
    "LCI": f"[identity, {LCI}]",
    "Rot": "[identity, rotation]",
    "Warp + LCI": f"[identity, warp, {LCI}]",
    "Rot + Warp": "[identity, rotation, warp]",
    "Rot + LCI": f"[identity, rotation, {LCI}]",
    "Rot + Warp + LCI": f"[identity, rotation, warp, {LCI}]",
}
TABLE_4_1 = {  # identity vs LCI only; patch sides are the thesis's 32/40/56 of 64 as fractions
    "(a) patch 0.5 (16 px)": "[identity, {name: lci, width: 32, patch_size: 0.5}]",
    "(b) patch 0.625 (20 px)": "[identity, {name: lci, width: 32, patch_size: 0.625}]",
    "(c) patch 0.875 (28 px)": "[identity, {name: lci, width: 32, patch_size: 0.875}]",
    "(d) pre-trained and frozen F": "[identity, {name: lci, width: 32, frozen: true, pretrain_steps: PRETRAIN}]",
    "(e) no adversarial loss w.r.t. C": "[identity, {name: lci, width: 32, fool_classifier: false}]",
    "(f) no patch autoencoding": "[identity, {name: lci, width: 32, patch_autoencoding: false}]",
}
THESIS_4_2_STL10 = {  # table 4.2, conv1..conv5, %
    "Random": (48.4, 53.3, 51.1, 48.7, 47.9),
    "Warp": (57.2, 64.2, 62.8, 58.8, 55.3),
    "LCI": (58.8, 67.2, 67.4, 68.1, 68.0),
    "Rot": (58.2, 67.3, 69.3, 69.9, 70.1),
    "Warp + LCI": (59.3, 68.1, 69.5, 68.5, 67.2),
    "Rot + Warp": (57.4, 69.2, 70.7, 70.5, 70.6),
    "Rot + LCI": (58.5, 69.2, 71.3, 72.8, 72.3),
    "Rot + Warp + LCI": (59.2, 69.7, 71.9, 73.1, 73.7),
}
THESIS_4_1_STL10 = {  # table 4.1, conv5, %
    "(a) patch 0.5 (16 px)": 61.2,
    "(b) patch 0.625 (20 px)": 70.6,
    "(c) patch 0.875 (28 px)": 75.1,
    "(d) pre-trained and frozen F": 63.7,
    "(e) no adversarial loss w.r.t. C": 68.0,
    "(f) no patch autoencoding": 69.5,
    "Baseline (patch 0.75, 24 px)": 76.2,
}
PROCEDURAL_ROWS = ("Random", "Rot", "LCI", "Rot + Warp + LCI")

SCALES = {
    "smoke": dict(images=256, epochs=1, labels=10, probe_epochs=5, pretrain=2, procedural_images=128),
    "quick": dict(images=2000, epochs=1, labels=100, probe_epochs=30, pretrain=20, procedural_images=1000),
    "full": dict(images=8000, epochs=2, labels=100, probe_epochs=100, pretrain=200, procedural_images=3000),
}


def _run_rows(rows: dict[str, str | None], base: list[str], scale: dict, picture_row: str | None = None) -> dict:
    """Pretrain and probe every row; one shared labelled subset and test set for all of them."""
    config = load_config(CONFIG, base)
    train_set, test_set = build_data(config.evaluation.train_data), build_data(config.evaluation.test_data)
    results: dict[str, Any] = {}
    finished = json.loads(PARTIAL.read_text()) if PARTIAL.exists() else {}
    for row, transforms in rows.items():
        key = json.dumps([base, transforms, scale])  # a row is reused only under identical settings
        if key in finished and row != picture_row:
            results[row] = finished[key]
            print(f"  {row}: reused from {PARTIAL.name}", flush=True)
            continue
        started = time.perf_counter()
        if transforms is None:
            results[row] = {"probe": probe_conv_layers(config, None, train_set, test_set, scale)}
            finished[key] = results[row]
            continue
        with tempfile.TemporaryDirectory() as out:
            row_config = load_config(CONFIG, [*base, f"transforms={transforms}", f"output_dir={out}"])
            summary = experiment.pretrain(row_config, progress=False)
            probe = probe_conv_layers(row_config, Path(out) / "backbone.pt", train_set, test_set, scale)
            if row == picture_row:
                PICTURE.parent.mkdir(parents=True, exist_ok=True)
                render_transform_grid(row_config, PICTURE, num_images=6, checkpoint=Path(out) / "checkpoint.pt")
        metrics = summary["final_metrics"]
        results[row] = {
            "transforms": transforms,
            "probe": probe,
            "pretext_accuracy": metrics.get("acc/transform"),
            "pretext_steps": summary["steps"],
            "seconds": time.perf_counter() - started,
        }
        print(f"  {row}: conv5 {probe['conv5']:.3f} ({time.perf_counter() - started:.0f} s)", flush=True)
        finished[key] = results[row]
        PARTIAL.write_text(json.dumps(finished))  # an interrupted run resumes from the rows it finished
    return results


def run(suite: str = "quick") -> dict:
    """Smoke: a few hundred images, 3 + 1 rows, no picture. Quick: 2k images, 1 epoch, table 4.2's key
    rows only. Full: 8k images, 2 epochs, both tables."""
    scale = SCALES[suite]
    base = [f"data.limit={scale['images']}", f"train.epochs={scale['epochs']}"]
    if suite == "smoke":
        base.append("evaluation.test_data={name: fashion_mnist, split: test, image_size: 32, limit: 500}")
    rows_4_2 = {k: v for k, v in TABLE_4_2.items() if suite == "full" or k in PROCEDURAL_ROWS}
    rows_4_1 = {k: v.replace("PRETRAIN", str(scale["pretrain"])) for k, v in TABLE_4_1.items()}
    if suite == "smoke":
        rows_4_2 = {k: rows_4_2[k] for k in ("Random", "LCI", "Rot + Warp + LCI")}
        rows_4_1 = {k: v for k, v in rows_4_1.items() if k.startswith("(d)")}
    elif suite == "quick":
        rows_4_1 = {}
    table_4_2 = _run_rows(rows_4_2, base, scale, picture_row="Rot + Warp + LCI" if suite == "full" else None)
    table_4_1 = _run_rows(rows_4_1, base, scale)
    if "LCI" in table_4_2:
        table_4_1["Baseline (patch 0.75, 24 px)"] = table_4_2["LCI"]
    procedural_base = [
        f"data={{name: procedural, num_samples: {scale['procedural_images']}, image_size: 32}}",
        f"train.epochs={scale['epochs']}",
        "evaluation.train_data={name: procedural, num_samples: 2000, image_size: 32}",
        f"evaluation.test_data={{name: procedural, num_samples: {200 if suite == 'smoke' else 2000}, "
        "image_size: 32, split: test}",
    ]
    procedural = _run_rows({k: TABLE_4_2[k] for k in PROCEDURAL_ROWS}, procedural_base, scale)
    PARTIAL.unlink(missing_ok=True)
    return {
        "scale": scale,
        "torch_threads": torch.get_num_threads(),
        "config": str(CONFIG.relative_to(ROOT)),
        "base_overrides": base,
        "procedural_overrides": procedural_base,
        "table_4_2": table_4_2,
        "table_4_1": table_4_1,
        "procedural_4_2": procedural,
        "picture": str(PICTURE.relative_to(ROOT)) if suite == "full" and PICTURE.exists() else None,
    }


def order_disagreements(ours: dict[str, float], thesis: dict[str, float]) -> list[str]:
    """Pairs of rows ranked one way by our numbers and the other way by the thesis's."""
    names = [n for n in thesis if n in ours]
    flips = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            if (ours[first] - ours[second]) * (thesis[first] - thesis[second]) < 0:
                better = first if ours[first] > ours[second] else second
                worse = second if better == first else first
                flips.append(f"{better} > {worse}")
    return flips


def _per_tap_table(rows: dict, thesis: dict | None) -> list[str]:
    lines = ["| pretext | " + " | ".join(TAPS) + " | pretext acc | thesis conv5 (STL-10) |", "|---|" + "---|" * 7]
    for row, outcome in rows.items():
        cells = " | ".join(f"{100 * outcome['probe'][t]:.1f}" for t in TAPS)
        pretext = outcome.get("pretext_accuracy")
        pretext_text = f"{pretext:.3f}" if isinstance(pretext, float) else "–"
        reference = f"{thesis[row][-1]:.1f}" if thesis and row in thesis else "–"
        lines.append(f"| {row} | {cells} | {pretext_text} | {reference} |")
    return lines


def to_markdown(result: dict) -> str:
    scale = result["scale"]
    lines = [
        f"Pretext: Fashion-MNIST train split (Debian `dataset-fashion-mnist`), first {scale['images']} images, "
        f"32x32, {scale['epochs']} epochs, `{result['config']}` (AlexNet-BN width 0.5, batch 64, eq. 4.1 `mode: all`); "
        f"LCI with inpainter/discriminator width 32, 2 px border. Linear probes (accuracy %, conv1–conv5) on "
        f"{scale['labels']} labels per class of the train split, {scale['probe_epochs']} epochs, tested on the 10k "
        f"test split; the same labelled subset for every row. One seed; torch threads: {result['torch_threads']}.",
        "",
        "### Table 4.2 shape: combinations of transformations",
        "",
        *_per_tap_table(result["table_4_2"], THESIS_4_2_STL10),
    ]
    ours = {row: o["probe"]["conv5"] for row, o in result["table_4_2"].items()}
    flips = order_disagreements(ours, {row: v[-1] for row, v in THESIS_4_2_STL10.items()})
    lines += ["", f"conv5 orderings that differ from the thesis ({len(flips)} pairs): " + ("; ".join(flips) or "none")]
    if result["table_4_1"]:
        lines += [
            "",
            "### Table 4.1 shape: LCI ablations (LCI the only transform, conv5 probe)",
            "",
            "| ablation | conv5 | thesis conv5 (STL-10) |",
            "|---|---|---|",
        ]
        for row, outcome in result["table_4_1"].items():
            lines.append(f"| {row} | {100 * outcome['probe']['conv5']:.1f} | {THESIS_4_1_STL10[row]:.1f} |")
        ours_4_1 = {row: o["probe"]["conv5"] for row, o in result["table_4_1"].items()}
        flips = order_disagreements(ours_4_1, THESIS_4_1_STL10)
        lines += ["", f"Orderings that differ from the thesis ({len(flips)} pairs): " + ("; ".join(flips) or "none")]
    lines += [
        "",
        f"### Table 4.2 rows on the procedural scenes ({scale['procedural_images']} images, 32x32, colour)",
        "",
        *_per_tap_table(result["procedural_4_2"], THESIS_4_2_STL10),
    ]
    if result.get("picture"):
        lines += [
            "",
            f"`{result['picture']}`: six Fashion-MNIST images (rows) under identity, rot90, rot180, rot270, warp "
            "and lci (columns) with the Rot + Warp + LCI run's trained inpainter; identity and rotation columns "
            "may carry patch-autoencoded decoys, as the classifier sees them (sec. 4.2.4).",
        ]
    return "\n".join(lines)
