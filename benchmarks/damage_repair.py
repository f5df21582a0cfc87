"""Table 3.1 at small scale over seeds: which design choices of damage & repair (chapter 3) give better features.

Every row pretrains the chapter-3 classifier (``configs/ch3_damage_repair_upright.yaml``: AlexNet
with BN only after conv5 and one FC layer, on the embedded ``upright_objects`` at 64 px, so E's
grid is 4×4) with the damage & repair task under one ablation of table 3.1 for a fixed number of
steps, then runs the config's linear probe on every layer and table 3.1's own transfer
(conv1–conv5 frozen, the fully-connected part trained on the labelled images). The autoencoder
{E, D} depends neither on the repair network nor on the classifier, so it is pre-trained (L_auto,
eq. 3.3) once per suite and shared by every row and seed; its held-out PSNR is one of the gates.
The seed sets the classifier's and repair network's initialisation, the data order, the drop
masks and the probe's labelled subset; the Random row is the random init of the same seed: its
linear probes are computed beside the baseline run, its frozen conv + FC transfer in a short run
of its own that first re-estimates the BN statistics on the labelled images.

Claims fixed before the runs (paired by seed, at conv5, the best layer and frozen conv + FC):
baseline > random init, and (a) input image as real < baseline (table 3.1: 74.99 vs 79.94).

The classifier and the repair network follow the authors' code where the thesis is silent (the
config's ``input_scale: 255`` and ``init: authors``; the transform's defaults: 3×3 fill,
non-saturating repair loss plus 30 × the kept pixels' error, mask head weight 0.1 with real
targets). Runs made before that change (a classifier that barely saw its input) were dropped from
the stored results; they stay in the repository's history.

Gates beside every row: the autoencoder's held-out PSNR (≥ 25 dB: real examples must be
high-fidelity, sec. 3.3.2) and the measured share of "damaged" images whose mask drops no cell
(< 5 %; (1 − θ)^16 on the 4×4 grid). The baseline run of seed 0 renders test images at θ = 0.1 … 0.9
(fig. 3.6) into a labelled picture. Finished runs are kept in ``results/damage_repair.<suite>.partial.json``.
"""

from __future__ import annotations

import fcntl
import json
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.environment import threads_sentence
from benchmarks.partial_results import CHECKPOINT_EVERY, PartialResults, missing_runs_lines, planned_runs
from benchmarks.plots import image_grid
from benchmarks.pretext_runs import fixed_step_config
from benchmarks.probing import PROBE_COLUMNS, claim_lines, per_layer_cells
from benchmarks.seed_statistics import format_mean_sd
from transformrec import experiment
from transformrec.atomic_save import save_atomic
from transformrec.config.build import build_data, build_transform_set
from transformrec.config.loading import load_config
from transformrec.training.checkpoint import load_learned_transforms
from transformrec.training.engine import CHECKPOINT_NAME
from transformrec.training.trainer import BACKBONE_NAME

NAME = "damage_repair"
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
CONFIG = ROOT / "configs" / "ch3_damage_repair_upright.yaml"
PICTURE = RESULTS / "damage_repair_drop_rates.png"
AUTOENCODERS = RESULTS  # tracked: a later session's rows load the very autoencoder the first rows used
DROP_RATES = (0.1, 0.3, 0.5, 0.7, 0.9)
BASELINE = "Baseline (θ = 0.5)"

TABLE_3_1: dict[str, dict[str, Any] | None] = {
    "Random init": None,
    BASELINE: {},
    "(a) Input image as real": {"autoencoded_real": False},
    "(b) Without mask prediction": {"mask_head": False},
    "(c) Local repair network": {"repair": "local"},
    "(e) No gating in repair layers": {"gating": False},
    "(f) No history of corrupted examples": {"history": False},
    "(h) Dropping rate = 0.3": {"drop_rate": 0.3},
    "(i) Dropping rate = 0.7": {"drop_rate": 0.7},
}
SEEDED = ("Random init", BASELINE, "(a) Input image as real")
THESIS_3_1_STL10 = {  # table 3.1, STL-10 accuracy %, conv layers frozen
    BASELINE: 79.94,
    "(a) Input image as real": 74.99,
    "(b) Without mask prediction": 78.44,
    "(c) Local repair network": 77.51,
    "(e) No gating in repair layers": 79.66,
    "(f) No history of corrupted examples": 79.76,
    "(h) Dropping rate = 0.3": 76.26,
    "(i) Dropping rate = 0.7": 81.06,
}
CLAIMS = ((BASELINE, "Random init"), (BASELINE, "(a) Input image as real"))
SUITES = {
    "smoke": {
        "steps": 2,
        "pretrain": 2,
        "seeds": 1,
        "rows": ("Random init", BASELINE, "(b) Without mask prediction"),
        "overrides": [
            "data.num_samples=128",
            "data.image_size=32",
            "evaluation.train_data={name: upright_objects, num_samples: 200, image_size: 32, seed: 1}",
            "evaluation.test_data={name: upright_objects, num_samples: 100, image_size: 32, split: test}",
            "evaluation.labels_per_class=5",
            "evaluation.options={epochs: 2}",
            "transforms.0.width=4",
        ],
        "fc_epochs": 1,
    },
    "quick": {"steps": 200, "pretrain": 300, "seeds": 1, "rows": SEEDED, "overrides": [], "fc_epochs": 10},
    # full: the thesis-length autoencoder (10000 L_auto steps, 80 epochs; stored, 23.7 dB held out)
    "full": {"steps": 600, "pretrain": 10000, "seeds": 3, "rows": tuple(TABLE_3_1), "overrides": [], "fc_epochs": 30},
}
# Table 3.1's own transfer: conv1–conv5 "kept fixed during transfer for classification", the
# fully-connected part trained on the labelled images (the `finetune` protocol with the conv
# stages frozen: fc6, from the pretext or random, and a new linear head are trained).
FROZEN_CONV = [f"stages.conv{i}" for i in range(1, 6)]
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


def autoencoder_file(suite: str, steps: int, folder: Path = AUTOENCODERS) -> Path:
    """Where a suite's shared autoencoder of ``steps`` L_auto steps is kept (and table 3.1 loads it from)."""
    return folder / f"damage_repair_autoencoder_{suite}_{steps}.pt"


def trained_transform(config, checkpoint: Path):
    """The config's learned transform with the networks (and phase step count) a run's checkpoint holds."""
    transform_set = build_transform_set(config, build_data(config.data))
    load_learned_transforms(transform_set, checkpoint)
    return transform_set.learned_transforms[0]


def _transform_override(options: dict[str, Any], cfg: dict, autoencoder: Path) -> list[str]:
    """``--set`` overrides of one row: its ablation, the shared autoencoder, R's decay horizon."""
    sets = [f"transforms.0.{key}={json.dumps(value)}" for key, value in options.items()]
    sets += [f"transforms.0.pretrain_steps={cfg['pretrain']}", f"transforms.0.lr_decay_steps={cfg['steps']}"]
    sets.append(f"transforms.0.autoencoder={autoencoder}")
    return sets


def _fc_transfer(cfg: dict, reestimate_bn: bool = False) -> list[str]:
    """``--set`` overrides that evaluate with table 3.1's protocol: frozen conv layers, trained FC layers."""
    options = {"epochs": cfg["fc_epochs"], "freeze": FROZEN_CONV}
    if reestimate_bn:
        options["reestimate_bn"] = True
    return ["evaluation.protocol=finetune", f"evaluation.options={json.dumps(options)}"]


def _random_fc_run(seed: int, cfg: dict) -> dict:
    """Table 3.1's transfer for the Random row: the seed's random init (the one the baseline run
    probes), its BN statistics re-estimated on the labelled images, then conv1–conv5 frozen and FC trained.

    Why re-estimated: a frozen BN keeps the statistics it holds. A pretrained row's BN after conv5
    holds statistics of pretext batches of the same images; a random init holds mean 0, variance 1,
    so its conv5 features (std about 0.007) would reach fc6 unnormalised, a handicap of scale rather
    than of features. The pass changes no weight.
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        overrides = [*cfg["overrides"], f"seed={seed}", f"output_dir={out}", *_fc_transfer(cfg, reestimate_bn=True)]
        config = load_config(CONFIG, overrides)
        backbone = experiment.load_backbone(config, None, build_data(config.evaluation.train_data))
        save_atomic(backbone.state_dict(), Path(out) / BACKBONE_NAME)
        results = experiment.evaluate(config, random_baseline=False)
    return {
        "overrides": overrides,
        "fc_transfer": {"pretrained": results["pretrained"]["test_acc"]},
        "seconds": time.perf_counter() - started,
        "torch_threads": torch.get_num_threads(),
    }


def pretrain_autoencoder(cfg: dict, path: Path) -> Path:
    """The suite's shared {E, D}: ``cfg['pretrain']`` L_auto steps on the baseline config's real batches
    (seed 0; one classifier step follows, which leaves E and D untouched), written to ``path``.

    Why once and apart: E and D depend on neither R nor C, so every row and seed loads the same
    autoencoder, and the rows of a table cut off by the end of a session resume with it.
    """
    overrides = [*cfg["overrides"], "seed=0", *_transform_override({}, cfg, path)[:-1]]
    with tempfile.TemporaryDirectory() as out:
        config = fixed_step_config(CONFIG, [*overrides, f"output_dir={out}"], 1)
        experiment.pretrain(config, progress=False)
        trained_transform(config, Path(out) / CHECKPOINT_NAME).save_autoencoder(path)
    return path


def _one_run(
    row: str, seed: int, cfg: dict, autoencoder: Path, test_images: torch.Tensor, picture: bool, out: Path
) -> dict:
    """One row and seed, trained in ``out`` (resumed from its checkpoint if a cut-off run left one)."""
    overrides = [*cfg["overrides"], f"seed={seed}", *_transform_override(TABLE_3_1[row], cfg, autoencoder)]
    started = time.perf_counter()
    run_settings = [f"output_dir={out}", f"train.checkpoint_every={CHECKPOINT_EVERY}"]
    config = fixed_step_config(CONFIG, [*overrides, *run_settings], cfg["steps"])
    summary = experiment.pretrain(config, resume=True, progress=False)
    results = experiment.evaluate(config, random_baseline=row == BASELINE)
    fc_config = load_config(CONFIG, [*overrides, *run_settings, *_fc_transfer(cfg)])  # evaluation only
    fc_results = experiment.evaluate(fc_config, random_baseline=False)  # Random: see _random_fc_run
    transform = trained_transform(config, out / CHECKPOINT_NAME)
    gates = chapter_3_gates(transform, test_images)
    if picture:
        _draw_renderings(transform, test_images[:6])
    per_tap = {
        name: {t: v["test_acc"] for t, v in results[name]["per_tap"].items()}
        for name in ("pretrained", "random")
        if name in results
    }
    metrics = summary["final_metrics"]
    return {
        "overrides": overrides,
        "steps": summary["steps"],
        "pretrained": per_tap["pretrained"],
        "random": per_tap.get("random"),
        "fc_transfer": {"pretrained": fc_results["pretrained"]["test_acc"]},
        "pretext_accuracy": metrics.get("acc/transform"),
        "mask_accuracy": metrics.get("acc/mask"),
        "gates": gates,
        "seconds": time.perf_counter() - started,
        "torch_threads": torch.get_num_threads(),
    }


def _draw_renderings(transform, images: torch.Tensor) -> None:
    columns = transform.renderings(images, DROP_RATES)
    grid = torch.stack(list(columns.values()), 1).flatten(0, 1).clamp(0, 1)
    rows = [f"test image {i}" for i in range(images.shape[0])]
    title = "Damage & repair on upright_objects (64 px, 4×4 grid): the baseline's networks at each drop rate θ"
    image_grid(grid, list(columns), rows, title, PICTURE)


def _run_order(cfg: dict) -> list[tuple[str, int]]:
    """(row, seed) in the order a table runs them: the first claim's two rows seed by seed, then (a)
    seed by seed, then the single-seed ablations.

    Why: a row costs half an hour here, so a session often ends mid-table; the first claim
    (baseline > Random, the one the chapter stands on) gets all its seeds before the second
    claim's (a) starts, and within a claim seed by seed, so a cut-off table holds both sides of
    it for every seed it reached. The single-seed ablations cannot tell their effect from noise,
    so they come last. A "Random init" run is only the Random row's frozen conv + FC transfer (a
    few minutes): its linear probes come with the baseline run of the same seed, which probes the
    same random init.
    """
    first_claim = [row for row in SEEDED[:2] if row in cfg["rows"]]  # Random, baseline
    second = [row for row in SEEDED[2:] if row in cfg["rows"]]  # (a)
    single_seed = [row for row in cfg["rows"] if row not in SEEDED]
    seeds = range(cfg["seeds"])
    return (
        [(row, seed) for seed in seeds for row in first_claim]
        + [(row, seed) for row in second for seed in seeds]
        + [(row, 0) for row in single_seed]
    )


def run(suite: str = "quick", seeds: int | None = None, finished_only: bool = False) -> dict:
    """Every row of the suite; ``seeds`` (default 3 in ``full``) applies to Random, baseline and (a)."""
    cfg = dict(SUITES[suite])
    cfg["seeds"] = seeds or cfg["seeds"]
    partial = PartialResults.of_benchmark(NAME, suite, finished_only)
    autoencoder = autoencoder_file(suite, cfg["pretrain"])
    if suite == "smoke":
        autoencoder = Path(tempfile.mkdtemp()) / "autoencoder.pt"
    test_images = None
    if not finished_only:
        with open(autoencoder.with_suffix(".lock"), "w") as lock:  # a second process waits, then loads it
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not autoencoder.exists():
                pretrain_autoencoder(cfg, autoencoder)
        config = load_config(CONFIG, cfg["overrides"])
        test_set = build_data(config.evaluation.test_data)
        test_images = torch.stack([test_set[i][0] for i in range(min(256, len(test_set)))])

    def one(row: str, seed: int, out: Path) -> dict:
        if row == "Random init":  # the Random row's frozen conv + FC transfer; nothing is kept in ``out``
            return _random_fc_run(seed, cfg)
        picture = suite == "full" and row == BASELINE and seed == 0
        return _one_run(row, seed, cfg, autoencoder, test_images, picture, out)

    def describe(out: dict) -> str:
        return f"frozen conv + FC {100 * out['fc_transfer']['pretrained']:.1f} %"

    rows = planned_runs(partial, _run_order(cfg), one, describe)
    run_threads = [run.get("torch_threads") for runs in rows.values() for run in runs]  # threads each run recorded
    random_fc = {run["seed"]: run["fc_transfer"]["pretrained"] for run in rows.pop("Random init", [])}
    random_probes = [r for r in rows.get(BASELINE, []) if r.get("random")]
    if "Random init" in cfg["rows"] and random_probes:
        rows["Random init"] = [
            {"pretrained": r["random"], "fc_transfer": {"pretrained": random_fc.get(r["seed"])}, "seed": r["seed"]}
            for r in random_probes
        ]
    order = list(TABLE_3_1)
    return {
        "suite": suite,
        "settings": cfg,
        "config": str(CONFIG.relative_to(ROOT)),
        "rows": {row: rows[row] for row in order if row in rows},
        "missing": partial.missing,
        "picture": str(PICTURE.relative_to(ROOT)) if suite == "full" and PICTURE.exists() else None,
        "torch_threads": torch.get_num_threads(),
        "run_threads": run_threads,
    }


def fc_transfer_accuracy(run: dict) -> float | None:
    """Test accuracy of table 3.1's transfer (conv1–conv5 frozen, FC layers trained) of one run; None if not run."""
    return run.get("fc_transfer", {}).get("pretrained")


def _gate_text(runs: list[dict]) -> str:
    """``19.1 dB ✗; 0.3 % (4×4)``: each gate's value, ✗ where it fails."""
    gates = [r["gates"] for r in runs if r.get("gates")]
    if not gates:
        return "–"
    psnr, share = min(g["psnr_db"] for g in gates), max(g["no_drop_share"] for g in gates)
    grid = "×".join(map(str, gates[0]["grid"]))
    return (
        f"{psnr:.1f} dB{'' if psnr >= PSNR_GATE else ' ✗'}; "
        f"{100 * share:.1f} % ({grid}){'' if share < NO_DROP_GATE else ' ✗'}"
    )


def to_markdown(result: dict) -> str:
    if "rows" not in result:
        return (
            "The stored results predate the 64 px seeded table (Fashion-MNIST at 32 px, a 2×2 grid, one seed, "
            "made before the learned-transform feedback fix) and are not shown; regenerate them with "
            "`python -m benchmarks run --suite full --only damage_repair`."
        )
    s = result["settings"]
    rows = result["rows"]
    lines = [
        f"Pretext: `{result['config']}` (upright_objects at 64 px, E's grid 4×4; AlexNet with BN only after conv5 "
        f"and one FC layer; E/D/R width 16), {s['steps']} steps per row; the autoencoder pre-trained once for "
        f"{s['pretrain']} L_auto steps and shared. Linear probe of the config on every layer (accuracy %). Seeds: "
        f"{s['seeds']} on {', '.join(SEEDED)}; the other rows are single-seed (seed 0). Cells: mean ± sd. Gates: "
        "the autoencoder's held-out PSNR and the share of damaged images that lost no cell (✗ marks a failed "
        f"gate). Frozen conv + FC: table 3.1's transfer, conv1–conv5 kept fixed while fc6 (from the pretext, or "
        f"random in the Random row) and a new linear layer train on the same labelled images for {s['fc_epochs']} "
        f"epochs (`finetune` protocol). In the Random row the BN statistics after conv5 are first re-estimated on "
        "those images (`reestimate_bn`), since a random init holds mean 0 and variance 1, which would pass its conv5 "
        "features (std about 0.007) to fc6 unnormalised; the trained rows' BN holds statistics of their pretext "
        "batches of the same images. "
        "Thesis column: table 3.1's STL-10 accuracy (conv layers frozen; compare orderings, not values). "
        + threads_sentence(result.get("run_threads", [])),
    ]
    if rows:
        taps = list(next(iter(rows.values()))[0]["pretrained"])
        lines += [
            "",
            "| ablation | seeds | " + " | ".join(taps) + " | best layer | frozen conv + FC | real/damaged acc | "
            "mask acc | gates (PSNR ≥ 25 dB; no-drop share < 5 %) | thesis (STL-10) |",
            "|---|---|" + "---|" * (len(taps) + 6),
        ]
        for row, runs in rows.items():
            pretext = [r["pretext_accuracy"] for r in runs if r.get("pretext_accuracy") is not None]
            masks = [r["mask_accuracy"] for r in runs if r.get("mask_accuracy") is not None]
            fc = [value for value in map(fc_transfer_accuracy, runs) if value is not None]
            measured = [format_mean_sd(values) if values else "–" for values in (fc, pretext, masks)]
            lines.append(
                f"| {row} | {len(runs)} | " + " | ".join([*per_layer_cells(runs, taps), *measured]) + " | "
                f"{_gate_text(runs)} | {THESIS_3_1_STL10.get(row, '–')} |"
            )
        lines += claim_lines(rows, CLAIMS, [*PROBE_COLUMNS, ("frozen conv + FC", fc_transfer_accuracy)])
    lines += missing_runs_lines(result.get("missing", []))
    if result.get("picture"):
        lines += [
            "",
            f"![damage & repair renderings]({Path(result['picture']).relative_to('benchmarks').as_posix()})",
            "",
            "Six test images (rows); columns: the input, D(E(x)) (the real class), damaged and repaired at each θ "
            "with nested drop masks (fig. 3.6), and θ = 0.5 decoded without R (fig. 3.3 c).",
        ]
    return "\n".join(lines)
