"""Table 3.1 at small scale: which design choices of damage & repair (chapter 3) give better features.

Every row pretrains the same AlexNet-BN on the same Fashion-MNIST images with the damage & repair
task under one ablation of table 3.1, then trains linear probes on conv1–conv5 with the same
labelled subset, so rows differ only in the pretext task; a random-init row is the floor. The
autoencoder {E, D} does not depend on the repair network or the classifier, so it is pre-trained
(L_auto, eq. 3.3) once, in the baseline row, and reused by every row with the same encoder; row
(d) (3×3 encoder) pre-trains its own for the same number of steps. A few rows are repeated on the
procedural colour scenes. The thesis's STL-10 numbers (conv1–conv5 frozen, table 3.1) are printed
beside ours, and every pair of rows ordered differently from the thesis is listed. The baseline
run's networks render damaged images at θ = 0.1 … 0.9 (fig. 3.6) into a PNG.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.plots import image_grid
from benchmarks.probing import TAPS, probe_conv_layers
from transformrec import experiment
from transformrec.config.build import build_data, build_transform_set
from transformrec.config.loading import load_config
from transformrec.training.checkpoint import load_checkpoint

NAME = "damage_repair"
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
CONFIG = ROOT / "configs" / "ch3_damage_repair_fashion_mnist.yaml"
PICTURE = RESULTS / "damage_repair_drop_rates.png"
DROP_RATES = (0.1, 0.3, 0.5, 0.7, 0.9)
BASELINE = "Baseline (θ = 0.5)"

TABLE_3_1: dict[str, dict[str, Any] | None] = {
    "Random init": None,
    BASELINE: {},
    "(a) Input image as real": {"autoencoded_real": False},
    "(b) Without mask prediction": {"mask_head": False},
    "(c) Local repair network": {"repair": "local"},
    "(d) 3×3 encoder convolutions": {"encoder_kernel": 3},
    "(e) No gating in repair layers": {"gating": False},
    "(f) No history of corrupted examples": {"history": False},
    "(g) Dropping rate = 0.1": {"drop_rate": 0.1},
    "(h) Dropping rate = 0.3": {"drop_rate": 0.3},
    "(i) Dropping rate = 0.7": {"drop_rate": 0.7},
    "(j) Dropping rate = 0.9": {"drop_rate": 0.9},
}
THESIS_3_1_STL10 = {  # table 3.1, STL-10 accuracy %, conv layers frozen
    "(a) Input image as real": 74.99,
    "(b) Without mask prediction": 78.44,
    "(c) Local repair network": 77.51,
    "(d) 3×3 encoder convolutions": 79.84,
    "(e) No gating in repair layers": 79.66,
    "(f) No history of corrupted examples": 79.76,
    "(g) Dropping rate = 0.1": 70.92,
    "(h) Dropping rate = 0.3": 76.26,
    "(i) Dropping rate = 0.7": 81.06,
    "(j) Dropping rate = 0.9": 79.60,
    BASELINE: 79.94,
}
QUICK_ROWS = (
    "Random init",
    BASELINE,
    "(a) Input image as real",
    "(b) Without mask prediction",
    "(i) Dropping rate = 0.7",
)
SMOKE_ROWS = ("Random init", BASELINE, "(b) Without mask prediction")
PROCEDURAL_ROWS = ("Random init", BASELINE, "(a) Input image as real", "(i) Dropping rate = 0.7")

SCALES = {
    "smoke": dict(images=128, epochs=1, labels=10, probe_epochs=5, pretrain=5, procedural_images=64),
    "quick": dict(images=1000, epochs=1, labels=100, probe_epochs=30, pretrain=100, procedural_images=500),
    "full": dict(images=4000, epochs=3, labels=100, probe_epochs=100, pretrain=1000, procedural_images=2000),
}


def _transform(options: dict[str, Any], scale: dict, steps: int, autoencoder: Path | None) -> str:
    """The ``transforms=[…]`` override of one row (JSON is YAML flow syntax)."""
    spec = {"name": "damage_repair", "width": 8, "drop_rate": 0.5, "history_size": 256}
    spec.update(pretrain_steps=scale["pretrain"], lr_decay_steps=steps, **options)
    if autoencoder is not None and autoencoder.exists() and options.get("encoder_kernel", 2) == 2:
        spec["autoencoder"] = str(autoencoder)
    return f"transforms=[{json.dumps(spec)}]"


PSNR_GATE, NO_DROP_GATE = 25.0, 0.05


@torch.no_grad()
def chapter_3_gates(transform, images: torch.Tensor, draws: int = 4000) -> dict[str, float]:
    """The two gates a table 3.1 row needs (sec. 3.3.2: real examples must be high-fidelity):

    * ``psnr_db``: held-out PSNR of the autoencoder D(E(x)) on ``images`` (pixels in [0, 1]);
    * ``no_drop_share``: the share of "damaged" images whose keep mask Ω drops no cell at all (they
      are real images labelled damaged), measured over ``draws`` masks at the transform's θ and grid;
      it is (1 − θ)^(M·N) in closed form.
    """
    transform.eval()
    reconstruction = transform.autoencode(images).clamp(0, 1)
    mse = float((reconstruction - images).pow(2).mean())
    keep = transform.sample_keep(images[:1].expand(draws, *images.shape[1:]), torch.Generator().manual_seed(0))
    return {
        "psnr_db": 10 * math.log10(1.0 / max(mse, 1e-12)),
        "no_drop_share": float(keep.flatten(1).all(1).float().mean()),
        "grid": list(transform.grid_size(*images.shape[-2:])),
    }


def _trained_transform(config, checkpoint: Path):
    (transform,) = build_transform_set(config, build_data(config.data)).transforms
    transform.load_checkpoint_state(load_checkpoint(checkpoint)["learned"][0])
    return transform


def _partial(suite: str, what: str) -> Path:
    """Progress files of one suite (a smoke run must not touch a full run's): rows and autoencoders."""
    return RESULTS / f"damage_repair.{suite}.{what}.partial"


def _run_rows(rows: dict, base: list[str], scale: dict, tag: str, suite: str, pictures: list[torch.Tensor]) -> dict:
    """Pretrain and probe every row; the baseline row's autoencoder is saved for the other rows."""
    config = load_config(CONFIG, base)
    train_set, test_set = build_data(config.evaluation.train_data), build_data(config.evaluation.test_data)
    steps = scale["epochs"] * -(-len(build_data(config.data)) // config.train.batch_size)
    autoencoder = _partial(suite, f"autoencoder_{tag}")
    partial = _partial(suite, "rows")
    results: dict[str, Any] = {}
    finished = json.loads(partial.read_text()) if partial.exists() else {}
    for row, options in rows.items():
        key = json.dumps([base, options, scale])  # a row is reused only under identical settings
        if key in finished and (row != BASELINE or autoencoder.exists()):
            results[row] = finished[key]
            print(f"  {row}: reused from {partial.name}", flush=True)
            continue
        started = time.perf_counter()
        if options is None:
            results[row] = {"probe": probe_conv_layers(config, None, train_set, test_set, scale)}
            finished[key] = results[row]
            continue
        with tempfile.TemporaryDirectory() as out:
            overrides = [*base, _transform(options, scale, steps, autoencoder), f"output_dir={out}"]
            row_config = load_config(CONFIG, overrides)
            summary = experiment.pretrain(row_config, progress=False)
            probe = probe_conv_layers(row_config, Path(out) / "backbone.pt", train_set, test_set, scale)
            transform = _trained_transform(row_config, Path(out) / "checkpoint.pt")
            gates = chapter_3_gates(transform, torch.stack([test_set[i][0] for i in range(min(256, len(test_set)))]))
            if row == BASELINE:
                transform.save_autoencoder(autoencoder)
                images = torch.stack([test_set[i][0] for i in range(6)])
                columns = transform.renderings(images, DROP_RATES)
                grid = torch.stack(list(columns.values()), 1).flatten(0, 1)
                pictures.append(grid.expand(-1, 3, -1, -1).clamp(0, 1))
                results["picture_columns"] = list(columns)
        metrics = summary["final_metrics"]
        results[row] = {
            "options": options,
            "probe": probe,
            "pretext_accuracy": metrics.get("acc/transform"),
            "mask_accuracy": metrics.get("acc/mask"),
            "pretext_steps": summary["steps"],
            "gates": gates,
            "seconds": time.perf_counter() - started,
        }
        print(f"  {row}: conv5 {probe['conv5']:.3f} ({time.perf_counter() - started:.0f} s)", flush=True)
        finished[key] = results[row]
        partial.write_text(json.dumps(finished))  # an interrupted run resumes from the rows it finished
    return results


def run(suite: str = "quick") -> dict:
    """Smoke: a hundred images, 3 rows. Quick: 1k images, 5 rows. Full: 4k images, 3 epochs, all of table 3.1."""
    scale = SCALES[suite]
    RESULTS.mkdir(parents=True, exist_ok=True)
    base = [f"data.limit={scale['images']}", f"train.epochs={scale['epochs']}"]
    if suite == "smoke":
        base.append("evaluation.test_data={name: fashion_mnist, split: test, image_size: 32, limit: 500}")
    names = {"smoke": SMOKE_ROWS, "quick": QUICK_ROWS, "full": tuple(TABLE_3_1)}[suite]
    pictures: list[torch.Tensor] = []
    table = _run_rows({k: TABLE_3_1[k] for k in names}, base, scale, "fashion", suite, pictures)
    procedural_base = [
        f"data={{name: procedural, num_samples: {scale['procedural_images']}, image_size: 32}}",
        f"train.epochs={scale['epochs']}",
        "evaluation.train_data={name: procedural, num_samples: 2000, image_size: 32}",
        f"evaluation.test_data={{name: procedural, num_samples: {200 if suite == 'smoke' else 2000}, "
        "image_size: 32, split: test}",
    ]
    procedural_names = SMOKE_ROWS[:2] if suite == "smoke" else PROCEDURAL_ROWS
    procedural_rows = {k: TABLE_3_1[k] for k in procedural_names}
    procedural = _run_rows(procedural_rows, procedural_base, scale, "procedural", suite, pictures)
    columns = table.pop("picture_columns", None)
    columns = procedural.pop("picture_columns", None) or columns  # None when a baseline was reused
    picture = None
    # Only the full suite draws the committed picture, so a quick or --no-write run cannot replace it.
    if suite == "full" and pictures and columns:
        per_set = len(pictures[0]) // len(columns)
        sets = ["Fashion-MNIST", "procedural"][: len(pictures)]
        rows = [f"{name} test #{i}" for name in sets for i in range(per_set)]
        title = "Damage & repair: test images rendered by the baseline's trained networks at each drop rate θ"
        image_grid(torch.cat(pictures), columns, rows, title, PICTURE)
        picture = str(PICTURE.relative_to(ROOT))
    for leftover in RESULTS.glob(f"damage_repair.{suite}.*.partial"):
        leftover.unlink()
    return {
        "scale": scale,
        "torch_threads": torch.get_num_threads(),
        "config": str(CONFIG.relative_to(ROOT)),
        "base_overrides": base,
        "procedural_overrides": procedural_base,
        "table_3_1": table,
        "procedural_3_1": procedural,
        "picture": picture,
        "picture_columns": columns,
    }


def _table(rows: dict) -> list[str]:
    lines = [
        "| ablation | " + " | ".join(TAPS) + " | real/damaged acc | mask acc | gates (AE PSNR ≥ 25 dB; no-drop "
        "share < 5 %) | thesis (STL-10) |",
        "|---|" + "---|" * 9,
    ]
    for row, outcome in rows.items():
        cells = " | ".join(f"{100 * outcome['probe'][t]:.1f}" for t in TAPS)
        pretext, mask = outcome.get("pretext_accuracy"), outcome.get("mask_accuracy")
        pretext_text = f"{pretext:.3f}" if isinstance(pretext, float) else "–"
        mask_text = f"{mask:.3f}" if isinstance(mask, float) else "–"
        reference = f"{THESIS_3_1_STL10[row]:.2f}" if row in THESIS_3_1_STL10 else "–"
        lines.append(f"| {row} | {cells} | {pretext_text} | {mask_text} | {_gate_text(outcome)} | {reference} |")
    return lines


def _gate_text(outcome: dict) -> str:
    """``19.1 dB ✗; 0.3 % (4×4)``: each gate's value, ✗ where it fails; "–" for rows stored before the gates."""
    gates = outcome.get("gates")
    if not gates:
        return "–"
    psnr, share = gates["psnr_db"], gates["no_drop_share"]
    grid = "×".join(map(str, gates["grid"]))
    return (
        f"{psnr:.1f} dB{'' if psnr >= PSNR_GATE else ' ✗'}; "
        f"{100 * share:.1f} % ({grid}){'' if share < NO_DROP_GATE else ' ✗'}"
    )


def to_markdown(result: dict) -> str:
    scale = result["scale"]
    lines = [
        f"Pretext: Fashion-MNIST train split (Debian `dataset-fashion-mnist`), first {scale['images']} images, "
        f"32x32 (a 2x2 feature grid), {scale['epochs']} epochs, `{result['config']}` (AlexNet-BN width 0.5, "
        f"batch 64, each image as real and as damaged); E/D/R width 8, L_auto pre-training {scale['pretrain']} "
        f"steps (shared by all rows but (d)). Linear probes (accuracy %, conv1–conv5) on {scale['labels']} labels "
        f"per class of the train split, {scale['probe_epochs']} epochs, tested on the 10k test split; the same "
        f"labelled subset for every row. Real/damaged and mask accuracies are the classifier's last-epoch training "
        f"means. One seed; torch threads: {result['torch_threads']}. The thesis column is table 3.1's STL-10 "
        "accuracy (conv layers frozen, different protocol and scale): compare orderings, not values.",
        "",
        "### Table 3.1 shape: damage & repair ablations",
        "",
        *_table(result["table_3_1"]),
    ]
    ours = {row: o["probe"]["conv5"] for row, o in result["table_3_1"].items() if row in THESIS_3_1_STL10}
    if ours and "Random init" in result["table_3_1"]:
        best = max(ours, key=ours.get)
        random_conv5 = result["table_3_1"]["Random init"]["probe"]["conv5"]
        lines += [
            "",
            f"Best pretrained conv5: {100 * ours[best]:.1f} ({best}) vs {100 * random_conv5:.1f} for random init "
            f"({'above' if ours[best] > random_conv5 else 'not above'} it at this scale).",
        ]
    flips = order_disagreements(ours, THESIS_3_1_STL10)
    lines += ["", f"conv5 orderings that differ from the thesis ({len(flips)} pairs): " + ("; ".join(flips) or "none")]
    lines += [
        "",
        f"### Table 3.1 rows on the procedural scenes ({scale['procedural_images']} images, 32x32, colour)",
        "",
        *_table(result["procedural_3_1"]),
    ]
    if result.get("picture"):
        lines += [
            "",
            f"`{result['picture']}`: six Fashion-MNIST, then six procedural test images (rows); columns "
            f"{', '.join(result['picture_columns'])}, rendered by each baseline run's trained networks with "
            "nested drop masks (fig. 3.6; the last column is fig. 3.3 (c), the damaged feature decoded without R).",
        ]
    return "\n".join(lines)


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
