"""Distribution-filtering GANs on Fashion-MNIST: the shape of table 7.1 and the settings of table 7.4, and cost.

Setup, scaled down from sec. 7.3 to a small CPU budget: the table 7.2 DCGAN at 32 px with every
channel count ×0.125 (the noise generator N(w) at ×0.125/8), non-saturating objective, Adam
(β₁ = 0.5), batch 64, lr 2·10⁻⁴ (the table 7.4 baseline; the thesis trains table 7.1 at 10⁻⁴ for
100K iterations, here a few hundred), on a fixed subset of the Fashion-MNIST train split mapped
to [−1, 1]. FID / IS use the offline Fashion-MNIST classifier of ``transformrec.eval.gan_features``
(128-d features, 10 classes; trained once per run of the benchmark), on generated images against
as many test-split images, at five evaluations spread over the last 20% of training; reported
as mean ± std over them (sec. 7.3 uses the last five checkpoints in the last 10%). These FIDs are
not comparable with Inception FIDs. Table 7.1 rows: standard GAN; (a)–(c) noisy samples only
(σ = 1, N(w) with λ = 1, σ = 1 annealed linearly to 0); (d)–(e) clean + noisy with σ = 1 fixed /
learned; (f)–(h) DFGAN with λ = 0.1, 1, 10; (i) the half-noisy alternative mini-batch, λ = 1.
Table 7.4 settings (a)–(f) are run for the standard GAN and DFGAN (λ = 0.1, as in sec. 7.3.3);
n_train (f) is a tenth of the training subset, as 5K is of 50K.

The cost section times ``GANTrainer.train_step`` (n_disc = 1) of the standard GAN, DFGAN and the
alternative mini-batch side by side on the same data, interleaved, median of several rounds.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from benchmarks.plots import fid_curves
from transformrec.adversarial.gan_trainer import GANConfig, GANTrainer
from transformrec.eval.gan_features import fashion_mnist_extractor

NAME = "dfgan"
SMOKE = {
    "steps": 4,
    "train_images": 512,
    "eval_samples": 100,
    "rows_71": ["standard", "g"],
    "rows_74": ["a"],
    "extractor_steps": 20,
    "timing_rounds": 1,
    "timing_steps": 2,
}
QUICK = {
    "steps": 40,
    "train_images": 5000,
    "eval_samples": 500,
    "rows_71": ["standard", "d", "g", "i"],
    "rows_74": ["a", "f"],
    "extractor_steps": 200,
    "timing_rounds": 3,
    "timing_steps": 5,
}
FULL = {
    "steps": 300,
    "train_images": 20000,
    "eval_samples": 1000,
    "rows_71": None,
    "rows_74": None,
    "extractor_steps": 600,
    "timing_rounds": 7,
    "timing_steps": 10,
}
WIDTH, BATCH, LR, SEED = 0.125, 64, 2e-4, 0

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
}
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


def _config(out: str, cfg: dict[str, Any], noise: dict[str, Any], **changes: Any) -> GANConfig:
    steps = cfg["steps"]
    first_eval = steps - steps // 5
    tree: dict[str, Any] = {
        "seed": SEED,
        "output_dir": out,
        "width": WIDTH,
        "batch_size": BATCH,
        "lr": LR,
        "steps": steps,
        "train_images": cfg["train_images"],
        "checkpoint_every": steps,
        "sample_every": steps,
        "noise": noise,
        "eval": {
            "every": max(1, (steps - first_eval) // 4),
            "start": first_eval,
            "samples": cfg["eval_samples"],
        },
    }
    tree.update(changes)
    return GANConfig.model_validate(tree)


def _train(config: GANConfig, extractor) -> dict[str, Any]:
    trainer = GANTrainer(config, extractor=extractor)
    start = time.perf_counter()
    summary = trainer.fit()
    last = [row for row in summary["history"] if row["step"] >= config.steps - config.steps // 5][-5:]
    fids, scores = [r["fid"] for r in last], [r["is"] for r in last]
    return {
        "fid": statistics.mean(fids),
        "fid_std": statistics.pstdev(fids),
        "is": statistics.mean(scores),
        "is_std": statistics.pstdev(scores),
        "evaluations": len(last),
        "wall_seconds": time.perf_counter() - start,
        "final_sigma": summary.get("final_sigma"),
        "history": summary["history"],  # every evaluation, for the FID curves
    }


def _time_steps(root: str, cfg: dict[str, Any]) -> dict[str, Any]:
    variants = {
        "standard": {"kind": "none"},
        "dfgan": {"kind": "network", "penalty": 1.0},
        "alt_batch": {"kind": "network", "penalty": 1.0, "mode": "half_noisy"},
    }
    trainers = {
        name: GANTrainer(_config(f"{root}/t_{name}", cfg, noise, eval={"extractor": "none"}))
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
        "ms_per_step": ms,
        "ratio_dfgan": ms["dfgan"] / ms["standard"],
        "ratio_alt_batch": ms["alt_batch"] / ms["standard"],
        "rounds": cfg["timing_rounds"],
        "steps_per_round": cfg["timing_steps"],
    }


def run(suite: str = "quick", settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Smoke: 4 steps, 2 + 1 rows. Quick: 40 steps, four table 7.1 rows, two table 7.4 settings.
    Full: 300 steps, every row."""
    cfg = dict(settings or {"smoke": SMOKE, "quick": QUICK, "full": FULL}[suite])
    return run_single_threaded(_run, cfg)


def run_single_threaded(body: Callable[[dict[str, Any], str], dict[str, Any]], cfg: dict[str, Any]) -> dict[str, Any]:
    """``body(cfg, scratch_dir)`` with one torch thread, restoring the thread count afterwards.

    One thread: on a shared CPU, several spinning OpenMP threads are several times slower than one.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with tempfile.TemporaryDirectory() as root:
            return body(cfg, root)
    finally:
        torch.set_num_threads(threads)


def _run(cfg: dict[str, Any], root: str) -> dict[str, Any]:
    extractor = fashion_mnist_extractor(f"{root}/extractor.pt", cfg["extractor_steps"], 32)
    rows_71 = []
    for key in cfg["rows_71"] or list(TABLE_71):
        label, noise = TABLE_71[key]
        result = _train(_config(f"{root}/71_{key}", cfg, noise), extractor)
        rows_71.append({"key": key, "label": label, **result})
        print(f"  7.1 {label}: FID {result['fid']:.1f} IS {result['is']:.2f}", flush=True)
    rows_74 = []
    for key in cfg["rows_74"] or list(TABLE_74):
        label, changes = TABLE_74[key]
        if key == "f":
            changes = {"train_images": cfg["train_images"] // 10}
        for method, noise in (("standard", {"kind": "none"}), ("dfgan", {"kind": "network", "penalty": 0.1})):
            result = _train(_config(f"{root}/74_{key}_{method}", cfg, noise, **changes), extractor)
            rows_74.append({"key": key, "label": label, "method": method, **result})
            print(f"  7.4 {label} {method}: FID {result['fid']:.1f} IS {result['is']:.2f}", flush=True)
    return {
        "settings": {**cfg, "width": WIDTH, "batch": BATCH, "lr": LR},
        "table_71": rows_71,
        "table_74": rows_74,
        "timing": _time_steps(root, cfg),
        "torch_threads": 1,
    }


PLOT = Path(__file__).resolve().parent / "results" / "dfgan_fid_curves.png"


def plot(result: dict[str, Any]) -> Path | None:
    """FID curves of the table 7.1 rows (runs that stored their evaluation history)."""
    return fid_curves(result["table_71"], "Table 7.1 rows at small scale: FID during training", PLOT)


def to_markdown(result: dict[str, Any]) -> str:
    s = result["settings"]
    curves = any(row.get("history") for row in result["table_71"])
    lines = [
        *([f"![FID during training]({PLOT.relative_to(PLOT.parents[1]).as_posix()})", ""] if curves else []),
        f"Data: Fashion-MNIST (Debian `dataset-fashion-mnist`) at 32 px in [−1, 1], {s['train_images']} training "
        f"images; DCGAN of table 7.2 at width {s['width']}, non-saturating loss, Adam β₁ = 0.5, lr {s['lr']}, batch "
        f"{s['batch']}, {s['steps']} generator steps; {result.get('torch_threads', 1)} torch thread. FID / IS: "
        f"offline Fashion-MNIST classifier ({s['extractor_steps']} training steps), {s['eval_samples']} samples, "
        "mean ± std over the evaluations in the last 20% of training. Lower FID and higher IS are better; "
        "thesis FIDs (CIFAR-10, Inception, 100K steps) are given for the shape only.",
        "",
        "| experiment (table 7.1) | FID | IS | thesis CIFAR-10 FID | s / run |",
        "|---|---|---|---|---|",
    ]
    for row in result["table_71"]:
        lines.append(
            f"| {row['label']} | {row['fid']:.1f} ± {row['fid_std']:.1f} | {row['is']:.2f} ± {row['is_std']:.2f} | "
            f"{THESIS_71[row['key']]} | {row['wall_seconds']:.0f} |"
        )
    lines += [
        "",
        "| setting (table 7.4) | standard FID | DFGAN (λ = 0.1) FID | standard IS | DFGAN IS |",
        "|---|---|---|---|---|",
    ]
    by_key: dict[str, dict[str, dict]] = {}
    for row in result["table_74"]:
        by_key.setdefault(row["key"], {})[row["method"]] = row
    for methods in by_key.values():
        st, df = methods["standard"], methods["dfgan"]
        lines.append(
            f"| {st['label']} | {st['fid']:.1f} ± {st['fid_std']:.1f} | {df['fid']:.1f} ± {df['fid_std']:.1f} | "
            f"{st['is']:.2f} | {df['is']:.2f} |"
        )
    t = result["timing"]
    ms = t["ms_per_step"]
    lines += [
        "",
        f"Step time (one D and one G update, median of {t['rounds']} interleaved rounds of {t['steps_per_round']} "
        f"steps): standard {ms['standard']:.1f} ms, DFGAN {ms['dfgan']:.1f} ms, alternative mini-batch "
        f"{ms['alt_batch']:.1f} ms. Ratio DF / standard {t['ratio_dfgan']:.2f} (thesis: 1.5 to 2), "
        f"alt-batch / standard {t['ratio_alt_batch']:.2f} (thesis: comparable to standard).",
    ]
    return "\n".join(lines)
