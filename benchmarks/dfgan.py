"""Distribution-filtering GANs (tables 7.1 and 7.4 at small scale) over seeds, and step-time ratios.

Setup, scaled down from sec. 7.3 to a CPU budget: the table 7.2 DCGAN at 32 px with every channel
count ×0.125 (the noise generator N(w) at ×0.125/8), non-saturating objective, Adam (β₁ = 0.5),
batch 64, lr 2·10⁻⁴ (the table 7.4 baseline; the thesis trains table 7.1 at 10⁻⁴ for 100K
iterations), 3000 generator steps, images in [−1, 1]. The noise model learns at D's learning rate
(as in the authors' code). FID / IS use an offline classifier trained once on the data set's own
labels (``transformrec.eval.gan_features.classifier_extractor``; 128-d features), on 2000 generated
images against 2000 test-split images, at the last five checkpoints, 100 steps apart (the last
10 %, as sec. 7.3); a run's score is their mean. These FIDs are not comparable with Inception FIDs.

Seeds: each seed sets G, D, N(w), the data order and the noise draws; rows of one seed are paired.
Claims fixed before the runs: (g) DFGAN λ = 1 has lower FID than the standard GAN, and so does
(d) clean + N(0, I) (table 7.1: 26.5 and 29.7 vs 46.1); in table 7.4's settings DFGAN fails in
fewer runs than the standard GAN, where a run *fails* when its final FID exceeds 3× the mean FID
of the standard GAN in table 7.1 on the same data, or its IS is below 1.5 (fig. 7.6 counts
failures the same way per method).

Table 7.1 runs on Fashion-MNIST (rows standard, (c) annealed σ, (d) clean + N(0, I), (g) DFGAN
λ = 1, (i) alternative mini-batch) and on the embedded ``upright_objects`` (rows standard, (d), (g)).
Table 7.4 (Fashion-MNIST, standard vs DFGAN with λ = 0.1 as in sec. 7.3.3): a) no BN in G, c) lr
10⁻³, f) n_train ÷ 10, and the 64 px DCGAN of table 7.3 (1500 steps there: each step costs about
four times a 32 px one).

The cost section times ``GANTrainer.train_step`` (n_disc = 1) of the standard GAN, DFGAN and the
alternative mini-batch side by side on the same data, interleaved, median of several rounds, at
widths 0.5 and 1 (the thesis width), where convolutions rather than per-operation overhead
dominate the step.

Finished runs are kept in ``results/dfgan.<suite>.partial.json``; ``run(..., parts=...)`` fills
only some parts (so two processes can share the two cores), and a later full run reuses them. The
runs of tables 7.1 and 7.4 go through the chapter tables' one run loop
(:func:`benchmarks.partial_results.planned_runs`), seed by seed, each in its run folder, so a run
cut off by the end of a session resumes from its last checkpoint.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.environment import benchmark_threads
from benchmarks.partial_results import CHECKPOINT_EVERY, PartialResults, missing_runs_lines, planned_runs
from benchmarks.plots import fid_curves, fid_per_seed
from benchmarks.seed_statistics import format_mean_sd, format_ordering, mean_sd, paired_by_seed, sign_test_p
from transformrec.adversarial.weight_average import WeightAverage
from transformrec.config.gan_build import GANConfig, GANTrainer, build_gan_images, build_gan_trainer, gan_images
from transformrec.config.schema import Component
from transformrec.eval.fid import score_samples
from transformrec.eval.gan_features import classifier_extractor
from transformrec.training.engine import CHECKPOINT_NAME

NAME = "dfgan"
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PLOT = RESULTS / "dfgan_fid.png"
CURVES = RESULTS / "dfgan_fid_curves.png"
EXTRACTORS = ROOT / "runs" / "benchmarks"
DATA = {
    "fashion_mnist": {"name": "fashion_mnist", "params": {"split": "train"}},
    "upright_objects": {"name": "upright_objects", "params": {"split": "train"}},
}
SMOKE = {
    "steps": 4,
    "steps_64": 4,
    "train_images": 512,
    "eval_samples": 100,
    "settings_71": {"fashion_mnist": {"dataset": "fashion_mnist", "rows": ["standard", "g"]}},
    "ema_seeds": 1,
    "rows_74": ["a"],
    "extractor_steps": 20,
    "seeds": 1,
    "timing_widths": [0.125],
    "timing_rounds": 1,
    "timing_steps": 2,
}
QUICK = {
    "steps": 300,
    "steps_64": 150,
    "train_images": 5000,
    "eval_samples": 500,
    "settings_71": {"fashion_mnist": {"dataset": "fashion_mnist", "rows": ["standard", "d", "g"]}},
    "ema_seeds": 1,
    "rows_74": ["a", "f"],
    "extractor_steps": 200,
    "seeds": 1,
    "timing_widths": [0.125],
    "timing_rounds": 3,
    "timing_steps": 5,
}
FULL = {
    "steps": 3000,
    "steps_64": 1500,
    "train_images": 20000,
    "eval_samples": 2000,
    # Where the standard GAN is unstable (upright_objects; Fashion-MNIST with n_train ÷ 10 for 4× the
    # steps, where D overfits), and the stable setting of the first version of this table.
    "settings_71": {
        "upright_objects": {"dataset": "upright_objects", "rows": ["standard", "g"], "seeds": 6},
        "fashion_mnist, n_train ÷ 10": {
            "dataset": "fashion_mnist",
            "rows": ["standard", "g"],
            "train_images": 2000,
            "steps": 12000,
        },
        "fashion_mnist": {"dataset": "fashion_mnist", "rows": ["standard", "g"]},
    },
    "ema_seeds": 3,
    "rows_74": ["a", "c", "f", "dcgan64"],
    "extractor_steps": 600,
    "seeds": 3,
    "timing_widths": [0.5, 1.0],
    "timing_rounds": 5,
    "timing_steps": 4,
}
WIDTH, BATCH, LR = 0.125, 64, 2e-4
FAILURE_FID_FACTOR, FAILURE_IS = 3.0, 1.5
EMA_DECAYS = (0.99, 0.999, 0.9999)
EVALUATIONS = 20  # FID / IS every steps / 20 (the curves); a run's score is the mean of the last 5

TABLE_71: dict[str, tuple[str, dict[str, Any]]] = {
    "standard": ("Standard GAN", {"kind": "none"}),
    "a": ("(a) Noise only: ε ~ N(0, I)", {"kind": "gaussian", "sigma": 1.0, "mode": "noisy_only"}),
    "b": ("(b) Noise only: ε learned", {"kind": "network", "penalty": 1.0, "mode": "noisy_only"}),
    "c": ("(c) Noise only: ε ~ N(0, σI), σ → 0", {"kind": "annealed", "sigma": 1.0, "mode": "noisy_only"}),
    "d": ("(d) Clean + noise: ε ~ N(0, I)", {"kind": "gaussian", "sigma": 1.0}),
    "e": ("(e) Clean + noise: learnt σ", {"kind": "learned_sigma", "sigma": 1.0}),
    "f": ("(f) DFGAN (λ = 0.1)", {"kind": "network", "penalty": 0.1}),
    "g": ("(g) DFGAN (λ = 1)", {"kind": "network", "penalty": 1.0}),
    "h": ("(h) DFGAN (λ = 10)", {"kind": "network", "penalty": 10.0}),
    "i": ("(i) DFGAN alt. mini-batch (λ = 1)", {"kind": "network", "penalty": 1.0, "mode": "half_noisy"}),
}
TABLE_74: dict[str, tuple[str, dict[str, Any]]] = {
    "a": ("a) lr 2e-4, no BN in G", {"g_batch_norm": False}),
    "b": ("b) tanh activations", {"activation": "tanh"}),
    "c": ("c) lr 1e-3", {"lr": 1e-3}),
    "d": ("d) SGD, lr 1e-2", {"optimizer": "sgd", "lr": 1e-2}),
    "e": ("e) n_disc = 5", {"n_disc": 5}),
    "f": ("f) n_train ÷ 10", {}),
    "dcgan64": ("64 px DCGAN (table 7.3)", {"image_size": 64}),
}
METHODS_74 = {"standard": {"kind": "none"}, "dfgan": {"kind": "network", "penalty": 0.1}}
THESIS_71 = {
    "standard": "46.1 ± 0.7",
    "a": "94.9 ± 4.9",
    "b": "69.0 ± 3.4",
    "c": "44.5 ± 3.2",
    "d": "29.7 ± 0.6",
    "e": "28.8 ± 0.7",
    "f": "27.7 ± 0.8",
    "g": "26.5 ± 0.6",
    "h": "29.8 ± 0.4",
    "i": "28.7 ± 0.6",
}


def _config(out: str, cfg: dict[str, Any], dataset: str, noise: dict[str, Any], seed: int, **changes: Any) -> GANConfig:
    steps = changes.pop("steps", cfg["steps"])
    every = max(1, steps // EVALUATIONS)
    tree: dict[str, Any] = {
        "seed": seed,
        "output_dir": out,
        "data": DATA[dataset],
        "width": WIDTH,
        "batch_size": BATCH,
        "lr": LR,
        "steps": steps,
        "train_images": cfg["train_images"],
        "checkpoint_every": min(steps, CHECKPOINT_EVERY),  # a run cut off resumes from its last checkpoint
        "sample_every": steps,
        "noise": noise,
        "eval": {"every": every, "start": every, "samples": cfg["eval_samples"]},
    }
    tree.update(changes)
    return GANConfig.model_validate(tree)


def _extractor(cfg: dict[str, Any], dataset: str, image_size: int):
    """One offline classifier per data set and size, trained once on its labelled training images and kept."""
    images, labels = gan_images(Component.model_validate(DATA[dataset]), image_size, cfg["train_images"])
    cache = EXTRACTORS / f"dfgan_extractor_{dataset}_{image_size}px_{cfg['train_images']}_{cfg['extractor_steps']}.pt"
    cache.parent.mkdir(parents=True, exist_ok=True)
    return classifier_extractor(images, labels, int(labels.max()) + 1, cache, cfg["extractor_steps"])


def _real_floor(cfg: dict[str, Any], dataset: str) -> dict[str, float]:
    """FID / IS of real training images against the test images the runs are scored on: the best a
    generator could reach with this extractor and sample count (the scale every FID is read on)."""
    extractor = _extractor(cfg, dataset, 32)
    train = Component.model_validate(DATA[dataset])
    test = Component.model_validate({**DATA[dataset], "params": {**DATA[dataset]["params"], "split": "test"}})
    real_train = gan_images(train, 32, cfg["eval_samples"])[0]
    real_test = gan_images(test, 32, cfg["eval_samples"])[0]
    scores = score_samples(extractor, real_test, real_train)
    return {"fid": scores.fid, "is": scores.inception_score}


def _train(config: GANConfig, extractor) -> dict[str, Any]:
    """One run in ``config.output_dir``, resumed from the checkpoint a cut-off run left there.

    ``wall_seconds`` is kept only for a run trained in one go (a resumed run's earlier part is not
    timed); the table's seconds per run average those.
    """
    resumed = (Path(config.output_dir) / CHECKPOINT_NAME).exists()
    trainer = build_gan_trainer(config, extractor=extractor, progress=False, overwrite=True)
    start = time.perf_counter()
    summary = trainer.fit(resume=True)
    last = summary["history"][-5:]
    return {
        "fid": statistics.mean(r["fid"] for r in last),
        "is": statistics.mean(r["is"] for r in last),
        "evaluations": len(last),
        "wall_seconds": None if resumed else time.perf_counter() - start,
        "final_sigma": summary.get("final_sigma"),
        "final_noise_rms": summary["final_losses"].get("noise_rms"),
        "history": summary["history"],
    }


def _changes_74(key: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """What table 7.4's setting ``key`` changes in the baseline config."""
    changes = dict(TABLE_74[key][1])
    if key == "f":
        changes["train_images"] = cfg["train_images"] // 10
    if changes.get("image_size", 32) == 64:
        changes["steps"] = cfg["steps_64"]
    return changes


def _seconds_per_run(runs: list[dict[str, Any]]) -> str:
    """Mean wall seconds of the runs trained in one go ("-" when every run was resumed)."""
    timed = [r["wall_seconds"] for r in runs if r.get("wall_seconds") is not None]
    return f"{statistics.mean(timed):.0f}" if timed else "-"


def _describe(out: dict[str, Any]) -> str:
    return f"FID {out['fid']:.1f} IS {out['is']:.2f}"


class _AveragingTrainer(GANTrainer):
    """A standard GAN run that keeps one weight average per decay of ``EMA_DECAYS`` beside G and scores
    G and every average at each evaluation: all decays see the same training, so their FIDs are paired."""

    def __init__(self, config: GANConfig, extractor) -> None:
        super().__init__(config, build_gan_images(config), extractor=extractor, progress=False, overwrite=True)
        self.averages = {decay: WeightAverage(self.generator, decay) for decay in EMA_DECAYS}
        self.scores: dict[str, list[dict[str, float]]] = {"G": [], **{str(d): [] for d in EMA_DECAYS}}

    def train_step(self) -> dict[str, float] | None:
        losses = super().train_step()
        for average in self.averages.values():
            average.update(self.generator)
        return losses

    def evaluate(self) -> dict[str, float] | None:
        row = super().evaluate()  # G itself (the config has no average)
        if row is None:
            return None
        self.scores["G"].append(row)
        for decay, average in self.averages.items():
            self.ema = average
            try:
                scores = score_samples(self.extractor(), self._real_test, self.sample(len(self._real_test)))
            finally:
                self.ema = None
            self.scores[str(decay)].append({"step": self.step, "fid": scores.fid, "is": scores.inception_score})
        return row


def _train_with_averages(config: GANConfig, extractor) -> dict[str, Any]:
    """FID of G and of each weight average at the last five evaluations of one standard GAN run."""
    trainer = _AveragingTrainer(config, extractor)
    trainer.fit()
    return {
        name: {"fids": [r["fid"] for r in rows[-5:]], "curve": [[r["step"], r["fid"]] for r in rows]}
        for name, rows in trainer.scores.items()
    }


def _time_steps(root: str, cfg: dict[str, Any], width: float) -> dict[str, Any]:
    variants = {
        "standard": {"kind": "none"},
        "dfgan": {"kind": "network", "penalty": 1.0},
        "alt_batch": {"kind": "network", "penalty": 1.0, "mode": "half_noisy"},
    }
    trainers = {
        name: build_gan_trainer(
            _config(
                f"{root}/t_{name}_{width}", cfg, "fashion_mnist", noise, 0, width=width, eval={"extractor": "none"}
            ),
            progress=False,
        )
        for name, noise in variants.items()
    }
    for trainer in trainers.values():
        trainer.train_step()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in trainers}
    for _ in range(cfg["timing_rounds"]):  # interleaved, so load changes hit every variant alike
        for name, trainer in trainers.items():
            start = time.perf_counter()
            for _ in range(cfg["timing_steps"]):
                trainer.train_step()
            times[name].append((time.perf_counter() - start) / cfg["timing_steps"])
    ms = {name: 1e3 * statistics.median(values) for name, values in times.items()}
    return {
        "width": width,
        "ms_per_step": ms,
        "ratio_dfgan": ms["dfgan"] / ms["standard"],
        "ratio_alt_batch": ms["alt_batch"] / ms["standard"],
        "rounds": cfg["timing_rounds"],
        "steps_per_round": cfg["timing_steps"],
    }


PARTS = ("ema", "71", "74", "timing")


def run(
    suite: str = "quick",
    seeds: int | None = None,
    parts: tuple[str, ...] = PARTS,
    finished_only: bool = False,
    seed_order: list[int] | None = None,
) -> dict[str, Any]:
    """Tables 7.1 and 7.4 over ``seeds`` seeds (default: 3 for ``full``) and the step-time ratios.

    ``finished_only``: train nothing, build the tables from the stored finished runs.
    ``seed_order``: the order the seeds are trained in (two processes filling one partial file
    start from opposite ends, e.g. ``[2, 1, 0]`` beside the default).
    """
    cfg = dict({"smoke": SMOKE, "quick": QUICK, "full": FULL}[suite])
    cfg["seeds"] = seeds or cfg["seeds"]
    cfg["seed_order"] = seed_order or list(range(cfg["seeds"]))
    with benchmark_threads(), tempfile.TemporaryDirectory() as root:
        return _run(cfg, suite, root, parts, finished_only)


def _run(cfg: dict[str, Any], suite: str, root: str, parts: tuple[str, ...], finished_only: bool) -> dict[str, Any]:
    partial = PartialResults.of_benchmark(NAME, suite, finished_only)
    result: dict[str, Any] = {
        "settings": {**cfg, "width": WIDTH, "batch": BATCH, "lr": LR, "ema_decay": GANConfig().ema_decay},
        "torch_threads": torch.get_num_threads(),
    }
    if "ema" in parts:
        extractor = None if finished_only else _extractor(cfg, "fashion_mnist", 32)
        runs = []
        for seed in range(cfg["ema_seeds"]):
            config = _config(f"{root}/ema_{seed}", cfg, "fashion_mnist", {"kind": "none"}, seed, ema_decay=None)
            out = partial.get_or_run(f"ema/{seed}", lambda c=config, e=extractor: _train_with_averages(c, e))
            if out is not None:
                runs.append({**out, "seed": seed})
        result["ema"] = runs
    if "71" in parts:
        result["table_71"], result["floors"], result["settings_71"] = {}, {}, {}
        for setting, spec in cfg["settings_71"].items():
            dataset = spec["dataset"]
            changes = {k: spec[k] for k in ("steps", "train_images") if k in spec}
            result["settings_71"][setting] = {
                "dataset": dataset,
                "steps": changes.get("steps", cfg["steps"]),
                "train_images": changes.get("train_images", cfg["train_images"]),
            }
            if dataset not in result["floors"]:
                result["floors"][dataset] = _real_floor(cfg, dataset)
            extractor = None if finished_only else _extractor(cfg, dataset, 32)
            seeds = [seed for seed in cfg["seed_order"] if seed < spec.get("seeds", cfg["seeds"])]
            seeds += [seed for seed in range(spec.get("seeds", cfg["seeds"])) if seed not in seeds]
            # Seed by seed: a table cut off by the end of a session holds both rows of every seed it reached.
            plan = [(f"71/{setting}/{key}", seed) for seed in seeds for key in spec["rows"]]

            def one_71(row: str, seed: int, out: Path, dataset=dataset, changes=changes, extractor=extractor) -> dict:
                noise = TABLE_71[row.rsplit("/", 1)[1]][1]
                return _train(_config(str(out), cfg, dataset, noise, seed, **changes), extractor)

            finished = planned_runs(partial, plan, one_71, _describe)
            for key in spec["rows"]:
                if f"71/{setting}/{key}" in finished:
                    label = TABLE_71[key][0]
                    runs = finished[f"71/{setting}/{key}"]
                    result["table_71"].setdefault(setting, []).append({"key": key, "label": label, "runs": runs})
    if "74" in parts:
        result["table_74"] = []
        extractors = {size: None if finished_only else _extractor(cfg, "fashion_mnist", size) for size in (32, 64)}
        # seed-major: a cut-off run has every setting at fewer seeds
        plan = [
            (f"74/{key}/{method}", seed)
            for seed in cfg["seed_order"]
            for key in cfg["rows_74"]
            for method in METHODS_74
        ]

        def one_74(row: str, seed: int, out: Path) -> dict:
            _, key, method = row.split("/")
            changes = _changes_74(key, cfg)
            config = _config(str(out), cfg, "fashion_mnist", METHODS_74[method], seed, **changes)
            return _train(config, extractors[changes.get("image_size", 32)])

        finished = planned_runs(partial, plan, one_74, _describe)
        for row, seed in plan:
            run = next((r for r in finished.get(row, []) if r["seed"] == seed), None)
            if run is not None:
                _, key, method = row.split("/")
                result["table_74"].append({"key": key, "label": TABLE_74[key][0], "method": method, **run})
    if "timing" in parts:
        timings = [
            partial.get_or_run(f"timing/{w}", lambda w=w: _time_steps(root, cfg, w)) for w in cfg["timing_widths"]
        ]
        result["timing"] = [t for t in timings if t is not None]
    result["missing"] = partial.missing
    return result


def plot(result: dict[str, Any]) -> Path | None:
    """Final FID of every table 7.1 run (one panel per setting, one column of points per row) and the
    FID curves over training (mean over seeds)."""
    if not result.get("table_71"):
        return None
    if any(
        run.get("history") and len(run["history"]) > 5
        for rows in result["table_71"].values()
        for row in rows
        for run in row["runs"]
    ):
        fid_curves(result["table_71"], "Table 7.1 at small scale: FID during training, mean ± sd over seeds", CURVES)
    return fid_per_seed(result["table_71"], "Table 7.1 rows at small scale: final FID per seed", PLOT)


def _fids(row: dict) -> list[float]:
    return [r["fid"] for r in row["runs"]]


def _failed(run: dict, baseline_fid: float | None) -> bool:
    """The failure rule fixed before the runs. The FID part needs a baseline on the same extractor: the
    64 px rows use an extractor of their own, so only IS < 1.5 counts there (as when none is stored)."""
    same_scale = baseline_fid is not None and run["key"] != "dcgan64"
    return (same_scale and run["fid"] > FAILURE_FID_FACTOR * baseline_fid) or run["is"] < FAILURE_IS


def _ema_lines(runs: list[dict]) -> list[str]:
    """The measurement behind ``GANConfig.ema_decay``'s default: FID of G against its weight averages."""
    if not runs:
        return []
    names = ["G", *(str(d) for d in EMA_DECAYS)]
    lines = [
        "",
        "### Which weight average to score (standard GAN, fashion_mnist)",
        "",
        f"One run per seed ({len(runs)} seed{'s' if len(runs) > 1 else ''}), scored from G itself and from an "
        "EMA of its weights at each decay "
        "(same training, so paired by seed). Rule fixed before the runs: the default decay is the one with the "
        "lowest mean FID; within-run sd is the sd of the last five evaluations (how much one run's score "
        "wanders), averaged over seeds.",
        "",
        "| scored from | FID (mean of last 5) | within-run sd | paired FID (G − this) |",
        "|---|---|---|---|",
    ]

    def run_fid(run: dict, name: str) -> float:
        return statistics.mean(run[name]["fids"])

    for name in names:
        fids = [run_fid(run, name) for run in runs]
        within = statistics.mean(statistics.stdev(run[name]["fids"]) for run in runs)
        paired = (
            "–"
            if name == "G"
            else format_ordering(
                paired_by_seed(
                    [{"seed": r["seed"], "v": run_fid(r, name)} for r in runs],
                    [{"seed": r["seed"], "v": run_fid(r, "G")} for r in runs],
                    lambda r: -r["v"],
                ),
                scale=1,
            )
        )
        label = "G (no average)" if name == "G" else f"EMA, decay {name}"
        lines.append(f"| {label} | {format_mean_sd(fids, scale=1)} | {within:.1f} | {paired} |")
    best = min(names[1:], key=lambda name: statistics.mean(run_fid(run, name) for run in runs))
    lines += ["", f"Lowest mean FID: decay {best}."]
    return lines


def to_markdown(result: dict[str, Any]) -> str:
    s = result["settings"]
    seeds = s["seeds"]
    lines = [
        f"![final FID per seed]({PLOT.relative_to(PLOT.parents[1]).as_posix()})",
        "",
        *(
            [f"![FID during training]({CURVES.relative_to(CURVES.parents[1]).as_posix()})", ""]
            if CURVES.exists()
            else []
        ),
        f"DCGAN of table 7.2 at width {s['width']} (D without BN on its first layer), 32 px, non-saturating loss, "
        f"Adam β₁ = 0.5, lr {s['lr']}, batch {s['batch']}, {s['steps']} generator steps, {s['train_images']} training "
        "images unless a setting says otherwise; DF rows: the noise network N of the authors' code (64 → 32 → 16 → 8 "
        "channels, 2·tanh output, fed G's own z), D's clean and noisy terms summed as eq. 7.8 reads; "
        f"{result.get('torch_threads', 1)} torch thread. FID / IS: an offline classifier per data set "
        f"({s['extractor_steps']} training steps on its labels), {s['eval_samples']} samples from an EMA of G's "
        f"weights (decay {s.get('ema_decay', 'none')}, BN in training mode) vs as many test images, at 20 "
        "evaluations per run; a run's score is the mean of its last 5 (the last fifth of training). Seeds: "
        f"{seeds} per row unless a row says otherwise (the seeds column counts a row's finished runs"
        f"{'; every row is single-seed' if seeds < 2 else ''}); "
        "cells are mean ± sd over seeds. Lower FID and "
        "higher IS are better; thesis FIDs (CIFAR-10, Inception, 100K steps) are given for the shape only. "
        "‖ε‖: RMS per pixel of the noise at the last step.",
    ]
    lines += _ema_lines(result.get("ema", []))
    baselines: dict[str, float] = {}
    for setting, rows in result.get("table_71", {}).items():
        by_key = {row["key"]: row for row in rows}
        spec = result.get("settings_71", {}).get(setting, {})
        dataset = spec.get("dataset", setting)
        floor = result.get("floors", {}).get(dataset)
        lines += [
            "",
            f"### Table 7.1 on {setting}",
            "",
            *(
                [f"{spec['train_images']} training images, {spec['steps']} generator steps.", ""]
                if "steps" in spec
                else []
            ),
            *(
                [
                    f"Real-vs-real floor with this extractor: FID {floor['fid']:.1f}, IS {floor['is']:.2f} "
                    f"({s['eval_samples']} training images scored like samples).",
                    "",
                ]
                if floor
                else []
            ),
            "| experiment | seeds | FID | IS | ‖ε‖ at the end | thesis CIFAR-10 FID | s / run |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in rows:
            runs = row["runs"]
            rms = [r["final_noise_rms"] for r in runs if r.get("final_noise_rms") is not None]
            lines.append(
                f"| {row['label']} | {len(runs)} | {format_mean_sd(_fids(row), scale=1)} | "
                f"{format_mean_sd([r['is'] for r in runs], scale=1, digits=2)} | "
                f"{format_mean_sd(rms, scale=1, digits=3) if rms else '-'} | {THESIS_71[row['key']]} | "
                f"{_seconds_per_run(runs)} |"
            )
        if "standard" in by_key:
            baselines[setting] = mean_sd(_fids(by_key["standard"]))["mean"]
            lines += ["", "| claim (fixed before the runs) | paired FID difference (standard − row) |", "|---|---|"]
            for key in (k for k in ("d", "g", "i", "c") if k in by_key):
                ordering = paired_by_seed(by_key["standard"]["runs"], by_key[key]["runs"], lambda r: r["fid"])
                claim = f"{by_key[key]['label']} has lower FID than the standard GAN"
                lines.append(f"| {claim} | {format_ordering(ordering, scale=1)} |")
    if result.get("table_74"):
        baseline = baselines.get("fashion_mnist")
        grouped: dict[str, dict[str, list[dict]]] = {}
        for run in result["table_74"]:
            grouped.setdefault(run["label"], {}).setdefault(run["method"], []).append(run)
        criterion = (
            f"final FID > {FAILURE_FID_FACTOR:g} × {baseline:.1f} (the standard GAN's mean in table 7.1) or IS < "
            f"{FAILURE_IS} (at 64 px, whose FIDs use another extractor: IS < {FAILURE_IS} only)"
            if baseline is not None
            else f"IS < {FAILURE_IS} (no table 7.1 baseline stored)"
        )
        lines += [
            "",
            "### Table 7.4 on fashion_mnist: settings where a standard GAN should fail",
            "",
            f"Standard GAN vs DFGAN (λ = 0.1). A run fails when its {criterion}; fixed before the runs.",
            "",
            "| setting | standard FID | DFGAN FID | paired FID (standard − DFGAN) | standard IS | DFGAN IS | "
            "failures standard | failures DFGAN |",
            "|---|---|---|---|---|---|---|---|",
        ]
        totals = {"standard": [0, 0], "dfgan": [0, 0]}
        discordant = {"dfgan_only_survives": 0, "standard_only_survives": 0}
        for label, methods in grouped.items():
            st, df = methods.get("standard", []), methods.get("dfgan", [])
            cells = []
            for runs in (st, df):
                cells.append(format_mean_sd([r["fid"] for r in runs], scale=1) if runs else "-")
            cells.append(format_ordering(paired_by_seed(st, df, lambda r: r["fid"]), scale=1))
            for runs in (st, df):
                cells.append(format_mean_sd([r["is"] for r in runs], scale=1, digits=2) if runs else "-")
            df_by_seed = {r["seed"]: r for r in df}
            for run in st:
                if run["seed"] in df_by_seed:
                    st_failed, df_failed = _failed(run, baseline), _failed(df_by_seed[run["seed"]], baseline)
                    discordant["dfgan_only_survives"] += st_failed and not df_failed
                    discordant["standard_only_survives"] += df_failed and not st_failed
            for method, runs in (("standard", st), ("dfgan", df)):
                failed = sum(_failed(r, baseline) for r in runs)
                totals[method][0] += failed
                totals[method][1] += len(runs)
                cells.append(f"{failed} / {len(runs)}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append(
            f"| all settings | | | | | | {totals['standard'][0]} / {totals['standard'][1]} | "
            f"{totals['dfgan'][0]} / {totals['dfgan'][1]} |"
        )
        wins, losses = discordant["dfgan_only_survives"], discordant["standard_only_survives"]
        lines += [
            "",
            f"Claim: DFGAN fails less often than the standard GAN. Over the seed-paired (setting, seed) runs, "
            f"{wins} pairs have only the standard GAN failing and {losses} only DFGAN; exact one-sided sign test "
            f"p = {sign_test_p(wins, losses):.3f}. The paired-FID column uses the same holds / within noise rule "
            "as every table (mean beyond 2 sd of the paired differences).",
        ]
        steps_64 = s.get("steps_64")
        if steps_64 is not None and any(r["key"] == "dcgan64" for r in result["table_74"]):
            lines += ["", f"The 64 px rows train {steps_64} generator steps (the others {s['steps']})."]
    lines += missing_runs_lines(result.get("missing", []))
    for t in result.get("timing", []):
        ms = t["ms_per_step"]
        lines += [
            "",
            f"Step time at width {t['width']} (one D and one G update, median of {t['rounds']} interleaved rounds of "
            f"{t['steps_per_round']} steps): standard {ms['standard']:.0f} ms, DFGAN {ms['dfgan']:.0f} ms, "
            f"alternative mini-batch {ms['alt_batch']:.0f} ms. Ratio DF / standard {t['ratio_dfgan']:.2f} (thesis: "
            f"1.5 to 2; target ≤ 1.6), alt-batch / standard {t['ratio_alt_batch']:.2f} (thesis: comparable; "
            "target ≤ 1.1).",
        ]
    return "\n".join(lines)
