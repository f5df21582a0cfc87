"""Bilevel vs SGD under label noise on Fashion-MNIST (the shape of table 8.1 and figure 8.3), and its cost.

Setup, scaled down from sec. 8.4.3 to a small CPU budget: CifarNet (width-scaled) plus a linear
classifier, trained on a class-balanced subset of the Fashion-MNIST train split whose labels
are corrupted with ``corrupt_labels`` (a fraction π per class moved uniformly to the other
classes), at π = 0, 0.4, 0.5, 0.8. Both optimisers are SGD with momentum 0.9, lr 0.01 decayed
by 0.95 per epoch, no augmentation (sec. 8.4.1 for CifarNet), and the same number of epochs,
i.e. the same number of visits per sample (sec. 8.2.1). Bilevel compares k = 8 label-balanced
mini-batches per step with μ = 0.01, λ = 1 (sec. 8.4.1 baseline) and the training set as
validation set (sec. 8.4.3). Reported: accuracy on the (noisy) training labels, on the clean
test split, the gap, and the wall time per epoch of each method, measured in the same run.

The cost section times, on the same model and data, one plain forward/backward pass over the
k·b samples of a bilevel step against the k per-batch gradients computed with
``torch.func`` (``vmap(grad)``) and with a loop of k backward passes (best of several repeats).
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch import nn
from torch.utils.data import DataLoader

from transformrec.backbones.registry import build_backbone
from transformrec.bilevel import BalancedBatchSampler, BilevelOptimizer, per_batch_grads, stack_minibatches
from transformrec.data.fashion_mnist import FashionMNIST
from transformrec.data.label_noise import corrupt_labels
from transformrec.eval.low_shot import low_shot_indices

NAME = "bilevel_noise"
SMOKE = {"per_class": 20, "test": 200, "epochs": 1, "noise": [0.5], "width": 0.25, "batch": 16}
QUICK = {"per_class": 100, "test": 1000, "epochs": 20, "noise": [0.0, 0.5], "width": 0.25, "batch": 16}
FULL = {"per_class": 300, "test": 2000, "epochs": 50, "noise": [0.0, 0.4, 0.5, 0.8], "width": 0.25, "batch": 16}
K, MU, LAMBDA, LR, MOMENTUM, DECAY, SEED = 8, 0.01, 1.0, 0.01, 0.9, 0.95, 0


def _tensors(split: str, count: int | None, per_class: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    data = FashionMNIST(split=split, image_size=28)
    if per_class is not None:
        keep = low_shot_indices(data.labels, per_class, SEED)
    else:
        keep = torch.randperm(len(data), generator=torch.Generator().manual_seed(SEED))[:count]
    images = data.images[keep].unsqueeze(1).float().div_(255.0)
    return images, data.labels[keep].clone()


def _model(width: float) -> nn.Module:
    torch.manual_seed(SEED)
    backbone = build_backbone("cifarnet", in_channels=1, image_size=28, width=width)
    return nn.Sequential(backbone, nn.Linear(backbone.feature_dim, 10))


@torch.no_grad()
def _accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    predictions = torch.cat([model(images[i : i + 500]).argmax(1) for i in range(0, len(images), 500)])
    return float((predictions == labels).float().mean())


def _train(method: str, images, labels, epochs: int, width: float, batch: int) -> dict[str, Any]:
    model = _model(width)
    dataset = torch.utils.data.TensorDataset(images, labels)
    if method == "bilevel":
        bilevel = BilevelOptimizer(model, k=K, mu=MU, lambda_=LAMBDA, lr=LR, momentum=MOMENTUM)
        optimizer = bilevel.optimizer
        sampler = BalancedBatchSampler(labels, batch, K, seed=SEED)
        loader = DataLoader(dataset, batch_sampler=sampler)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        loader = DataLoader(dataset, batch_size=batch, shuffle=True, generator=torch.Generator().manual_seed(SEED))
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, DECAY)
    torch.manual_seed(SEED)
    seconds, visits, negative = 0.0, 0, []
    for epoch in range(epochs):
        model.train()
        if method == "bilevel":
            sampler.set_epoch(epoch)
        start = time.perf_counter()
        for x, y in loader:
            if method == "bilevel":
                step = bilevel.step(F.cross_entropy, stack_minibatches(x, K), stack_minibatches(y, K))
                negative.append(float((step.weights < 0).float().mean()))
            else:
                optimizer.zero_grad(set_to_none=True)
                F.cross_entropy(model(x), y).backward()
                optimizer.step()
            visits += len(y)
        seconds += time.perf_counter() - start
        scheduler.step()
    return {
        "model": model,
        "seconds_per_epoch": seconds / epochs,
        "visits_per_epoch": visits / epochs,
        "negative_weight_fraction": sum(negative) / len(negative) if negative else None,
    }


def _time_gradients(images: torch.Tensor, labels: torch.Tensor, width: float, batch: int, repeats: int) -> dict:
    """Plain backward on k·b samples vs k per-batch gradients by vmap and by loop, on identical tensors."""
    model = _model(width).train()
    x = images[: K * batch].reshape(K, batch, *images.shape[1:])
    y = labels[: K * batch].reshape(K, batch)

    def plain() -> None:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x.flatten(0, 1)), y.flatten()).backward()

    candidates = {
        "plain": plain,
        "vmap": lambda: per_batch_grads(model, F.cross_entropy, x, y, method="vmap"),
        "loop": lambda: per_batch_grads(model, F.cross_entropy, x, y, method="loop"),
    }
    best = {name: float("inf") for name in candidates}
    for fn in candidates.values():
        fn()  # warm-up
    for _ in range(repeats):  # interleaved, so load changes on a shared machine hit every method alike
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return {
        "k": K,
        "batch": batch,
        "repeats": repeats,
        "ms": {name: 1e3 * value for name, value in best.items()},
        "ratio_vmap": best["vmap"] / best["plain"],
        "ratio_loop": best["loop"] / best["plain"],
    }


def run(suite: str = "quick", settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Quick: 100 images/class, 20 epochs, π ∈ {0, 0.5}. Full: 300 images/class, 50 epochs, four noise levels."""
    cfg = dict(settings or {"smoke": SMOKE, "quick": QUICK, "full": FULL}[suite])
    quick = suite != "full"
    threads = torch.get_num_threads()
    # One thread: on a shared CPU, several spinning OpenMP threads are several times slower than one.
    torch.set_num_threads(1)
    try:
        return _run(cfg, quick)
    finally:
        torch.set_num_threads(threads)


def _run(cfg: dict[str, Any], quick: bool) -> dict[str, Any]:
    train_x, clean = _tensors("train", None, cfg["per_class"])
    test_x, test_y = _tensors("test", cfg["test"], None)
    rows = []
    for noise in cfg["noise"]:
        noisy = corrupt_labels(clean, noise, 10, seed=SEED)
        for method in ("sgd", "bilevel"):
            out = _train(method, train_x, noisy, cfg["epochs"], cfg["width"], cfg["batch"])
            train_acc = _accuracy(out["model"], train_x, noisy)
            test_acc = _accuracy(out["model"], test_x, test_y)
            rows.append(
                {
                    "noise": noise,
                    "method": method,
                    "train_acc": train_acc,
                    "train_acc_clean_labels": _accuracy(out["model"], train_x, clean),
                    "test_acc": test_acc,
                    "gap": train_acc - test_acc,
                    "seconds_per_epoch": out["seconds_per_epoch"],
                    "visits_per_epoch": out["visits_per_epoch"],
                    "negative_weight_fraction": out["negative_weight_fraction"],
                }
            )
            print(f"  noise {noise:.0%} {method}: train {train_acc:.3f} test {test_acc:.3f}", flush=True)
    timing = _time_gradients(train_x, clean, cfg["width"], cfg["batch"], repeats=3 if quick else 10)
    return {
        "settings": {**cfg, "k": K, "mu": MU, "lambda": LAMBDA, "lr": LR, "decay": DECAY},
        "rows": rows,
        "gradients": timing,
        "torch_threads": 1,
        "num_train": len(clean),
        "num_test": len(test_y),
    }


def to_markdown(result: dict[str, Any]) -> str:
    s = result["settings"]
    lines = [
        f"Data: Fashion-MNIST (Debian `dataset-fashion-mnist`) at 28 px, {result['num_train']} training images "
        f"({s['per_class']} per class) with a fraction π of each class relabelled uniformly to the other classes, "
        f"{result['num_test']} clean test images; {result.get('torch_threads', 1)} torch thread. "
        f"Model: CifarNet at width {s['width']} + linear classifier. "
        f"Both: SGD momentum 0.9, lr {s['lr']} x {s['decay']} per epoch, mini-batch {s['batch']}, {s['epochs']} "
        f"epochs (equal sample visits). Bilevel: k = {s['k']}, μ = {s['mu']}, λ = {s['lambda']}, label-balanced "
        "mini-batches, training set as validation set. Train accuracy is on the noisy training labels.",
        "",
        "| noise π | method | train acc | clean test acc | gap | train acc on clean labels | s / epoch | "
        "negative ω share |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        negative = row["negative_weight_fraction"]
        lines.append(
            f"| {row['noise']:.0%} | {row['method']} | {100 * row['train_acc']:.1f}% | {100 * row['test_acc']:.1f}% | "
            f"{100 * row['gap']:+.1f} | {100 * row['train_acc_clean_labels']:.1f}% | {row['seconds_per_epoch']:.2f} | "
            f"{'-' if negative is None else f'{100 * negative:.1f}%'} |"
        )
    by_noise: dict[float, dict[str, dict]] = {}
    for row in result["rows"]:
        by_noise.setdefault(row["noise"], {})[row["method"]] = row
    ratios = [m["bilevel"]["seconds_per_epoch"] / m["sgd"]["seconds_per_epoch"] for m in by_noise.values()]
    lines += [
        "",
        "Thesis reference (CifarNet on CIFAR-10): at 50% noise bilevel raises clean test accuracy (47.6% vs "
        "45.2%) and lowers train accuracy on the noisy labels (89.3% vs 96.8%) (table 8.1); figure 8.3 shows "
        "higher test accuracy for bilevel at every noise level; on clean labels test accuracy is on par (75.5% "
        "vs 75.7%) with a smaller gap (22.1 vs 24.3 points). Here, bilevel − SGD:",
        "",
        "| noise π | clean test acc (points) | train acc on noisy labels (points) | gap (points) | "
        "bilevel has the higher test acc |",
        "|---|---|---|---|---|",
    ]
    for noise, methods in by_noise.items():
        b, g = methods["bilevel"], methods["sgd"]
        test = 100 * (b["test_acc"] - g["test_acc"])
        lines.append(
            f"| {noise:.0%} | {test:+.1f} | {100 * (b['train_acc'] - g['train_acc']):+.1f} | "
            f"{100 * (b['gap'] - g['gap']):+.1f} | {'yes' if test > 0 else 'no'} |"
        )
    first = next(iter(by_noise.values()))
    sgd_steps = round(first["sgd"]["visits_per_epoch"] / s["batch"]) * s["epochs"]
    bilevel_steps = round(first["bilevel"]["visits_per_epoch"] / (s["k"] * s["batch"])) * s["epochs"]
    lines += [
        "",
        f"Optimiser steps per run at equal sample visits: SGD {sgd_steps}, bilevel {bilevel_steps} "
        f"(each bilevel step consumes k = {s['k']} mini-batches and applies one re-weighted gradient).",
    ]
    lines += [
        "",
        "Epoch-time ratio bilevel / SGD at equal sample visits: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f" (per noise level; mean {sum(ratios) / len(ratios):.2f}).",
    ]
    g = result["gradients"]
    ms = g["ms"]
    lines += [
        "",
        f"Per-batch gradients of one bilevel step (k = {g['k']} mini-batches of {g['batch']}, best of "
        f"{g['repeats']}, interleaved): plain backward on all {g['k'] * g['batch']} samples {ms['plain']:.1f} ms; "
        f"`torch.func` vmap(grad) {ms['vmap']:.1f} ms (ratio {g['ratio_vmap']:.2f}); loop of {g['k']} backward "
        f"passes {ms['loop']:.1f} ms (ratio {g['ratio_loop']:.2f}).",
    ]
    return "\n".join(lines)
