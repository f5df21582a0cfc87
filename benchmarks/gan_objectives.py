"""Distribution filtering applied to established GAN objectives: the shape of table 7.3 on Fashion-MNIST.

Each objective of table 7.3 is trained with and without distribution filtering (the noise
network N(w), clean + noisy batches, λ as the thesis chose per model): MMGAN (λ = 0.1), DCGAN's
non-saturating loss (λ = 10), LSGAN (λ = 10), the hinge loss of SVM-GAN (λ = 1) and SNGAN (hinge
loss, spectral-normalised D without BN, λ = 1; with DF its filtered groups are standardised
separately, sec. 7.2.3), plus WGAN-GP without DF as in the table. All use the table 7.2 networks
(the thesis uses each model's published network; here one architecture for all, as it did for
SVM-GAN). A second pair repeats the standard GAN vs DFGAN at 64 px (the resolution of the
CelebA column). Training, data and FID / IS follow ``benchmarks/dfgan.py``.
"""

from __future__ import annotations

import tempfile
from typing import Any

import torch

from benchmarks.dfgan import BATCH, LR, WIDTH, _config, _extractor, _train
from benchmarks.environment import benchmark_threads

NAME = "gan_objectives"
SMOKE = {"steps": 4, "train_images": 512, "eval_samples": 100, "rows": ["dcgan"], "sizes": [32], "extractor_steps": 20}
QUICK = {
    "steps": 40,
    "train_images": 5000,
    "eval_samples": 500,
    "rows": ["mmgan", "sngan"],
    "sizes": [32],
    "extractor_steps": 200,
}
FULL = {
    "steps": 300,
    "train_images": 20000,
    "eval_samples": 1000,
    "rows": None,
    "sizes": [32, 64],
    "extractor_steps": 600,
}

# key: (label, objective, spectral_norm, λ of the DF row or None when the table has no DF row)
MODELS: dict[str, tuple[str, str, bool, float | None]] = {
    "mmgan": ("MMGAN (minimax)", "minimax", False, 0.1),
    "dcgan": ("DCGAN (non-saturating)", "non_saturating", False, 10.0),
    "wgan_gp": ("WGAN-GP", "wgan_gp", False, None),
    "lsgan": ("LSGAN (least squares)", "least_squares", False, 10.0),
    "svmgan": ("SVM-GAN (hinge)", "hinge", False, 1.0),
    "sngan": ("SNGAN (hinge, spectral norm)", "hinge", True, 1.0),
}
THESIS_CIFAR_FID = {
    ("mmgan", False): "> 450",
    ("mmgan", True): "33.1 ± 0.7",
    ("dcgan", False): "33.4 ± 0.5",
    ("dcgan", True): "31.2 ± 0.3",
    ("wgan_gp", False): "37.7 ± 0.4",
    ("lsgan", False): "38.7 ± 1.8",
    ("lsgan", True): "36.7 ± 1.2",
    ("svmgan", False): "43.9 ± 1.0",
    ("svmgan", True): "28.7 ± 1.1",
    ("sngan", False): "29.1 ± 0.4",
    ("sngan", True): "25.9 ± 0.3",
}


def run(suite: str = "quick", settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Smoke: DCGAN ± DF for 4 steps. Quick: MMGAN and SNGAN ± DF, 40 steps. Full: every model, 300
    steps, and DCGAN ± DF at 64 px."""
    cfg = dict(settings or {"smoke": SMOKE, "quick": QUICK, "full": FULL}[suite])
    with benchmark_threads(), tempfile.TemporaryDirectory() as root:
        return _run(cfg, root)


def _run(cfg: dict[str, Any], root: str) -> dict[str, Any]:
    rows = []
    for size in cfg["sizes"]:
        extractor = _extractor(cfg, "fashion_mnist", size)
        keys = (cfg["rows"] or list(MODELS)) if size == 32 else ["dcgan"]
        for key in keys:
            label, objective, spectral, penalty = MODELS[key]
            variants = [(False, {"kind": "none"})]
            if penalty is not None:
                variants.append((True, {"kind": "network", "penalty": penalty}))
            for filtered, noise in variants:
                config = _config(
                    f"{root}/{size}_{key}_{filtered}",
                    cfg,
                    "fashion_mnist",
                    noise,
                    0,
                    objective=objective,
                    spectral_norm=spectral,
                    image_size=size,
                )
                result = _train(config, extractor)
                rows.append({"key": key, "label": label, "size": size, "df": filtered, "penalty": penalty, **result})
                print(f"  {size}px {label}{' + DF' if filtered else ''}: FID {result['fid']:.1f}", flush=True)
    return {
        "settings": {**cfg, "width": WIDTH, "batch": BATCH, "lr": LR},
        "rows": rows,
        "torch_threads": torch.get_num_threads(),
    }


def to_markdown(result: dict[str, Any]) -> str:
    s = result["settings"]
    lines = [
        f"Data: Fashion-MNIST (Debian `dataset-fashion-mnist`) in [−1, 1], {s['train_images']} training images; "
        f"table 7.2 networks at width {s['width']}, Adam β₁ = 0.5, lr {s['lr']}, batch {s['batch']}, "
        f"{s['steps']} generator steps, {result.get('torch_threads', 1)} torch thread. DF = noise network N(w), "
        "clean + noisy batches, λ as in table 7.3. FID / IS: offline Fashion-MNIST classifier "
        f"({s['extractor_steps']} training steps), {s['eval_samples']} samples, mean ± std over the evaluations in "
        "the last evaluations of training (not comparable with Inception FIDs; thesis CIFAR-10 FIDs for the shape "
        "only). One seed.",
        "",
        "| model | px | FID | FID + DF | IS | IS + DF | thesis CIFAR-10 FID | thesis + DF |",
        "|---|---|---|---|---|---|---|---|",
    ]
    pairs: dict[tuple[str, int], dict[bool, dict]] = {}
    for row in result["rows"]:
        pairs.setdefault((row["key"], row["size"]), {})[row["df"]] = row
    for (key, size), by_df in pairs.items():
        plain, filtered = by_df[False], by_df.get(True)
        label = plain["label"] + (f" (λ = {plain['penalty']:g})" if filtered else "")
        fid_df = _fid(filtered) if filtered else "—"
        is_df = f"{filtered['is']:.2f}" if filtered else "—"
        thesis = THESIS_CIFAR_FID.get((key, False), "—") if size == 32 else "—"
        thesis_df = THESIS_CIFAR_FID.get((key, True), "—") if size == 32 else "—"
        lines.append(
            f"| {label} | {size} | {_fid(plain)} | {fid_df} | {plain['is']:.2f} | {is_df} | {thesis} | {thesis_df} |"
        )
    return "\n".join(lines)


def _fid(row: dict[str, Any]) -> str:
    """FID, with the spread over a run's last evaluations where the stored run has it."""
    return f"{row['fid']:.1f} ± {row['fid_std']:.1f}" if "fid_std" in row else f"{row['fid']:.1f}"
