"""End-to-end fine-tuning of a pre-trained backbone with a new linear head (sec. 4.4).

Why: besides frozen-feature probes, the thesis transfers its features by fine-tuning the whole
network (the ResNet-34 on STL-10's labelled images, table 4.7; Pascal VOC, table 4.4). The
optimiser mirrors the pre-training recipe of sec. 4.4 (AdamW with cosine annealing). The
caller's backbone is deep-copied and never modified, so one pre-trained model can be evaluated
by several protocols in a row.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from transformrec.atomic_save import save_atomic
from transformrec.backbones.base import TappedBackbone
from transformrec.eval.features import dataset_labels, dataset_num_classes
from transformrec.eval.fitting import CrossEntropyUpdate, epochs_of, fit_epochs
from transformrec.eval.low_shot import low_shot_indices
from transformrec.eval.registry import register_evaluation


class _Classifier(nn.Module):
    """The copied backbone followed by a linear head on its ``feature_dim`` output."""

    def __init__(self, backbone: TappedBackbone, num_classes: int) -> None:
        super().__init__()
        if backbone.feature_dim <= 0:
            raise ValueError(f"{type(backbone).__name__} must set a positive feature_dim to be fine-tuned")
        self.backbone = backbone
        self.head = nn.Linear(backbone.feature_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x).flatten(1))


def _matches(name: str, prefixes: Sequence[str]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def freeze_modules(backbone: nn.Module, prefixes: Sequence[str]) -> list[nn.Module]:
    """Stop gradients to parameters whose name starts with one of ``prefixes`` (``"conv1"``...).

    Why: transfer with limited labels often keeps early layers fixed. A prefix matches a whole
    name component (``"conv1"`` freezes ``conv1.weight`` but not ``conv10``); a prefix matching
    nothing is an error, to catch typos in configs. Returns the frozen modules so the caller can
    keep them in eval mode (frozen batch-norm layers must not update running statistics either).
    """
    prefixes = tuple(prefixes)
    frozen_modules = [module for name, module in backbone.named_modules() if name and _matches(name, prefixes)]
    hit = {prefix for prefix in prefixes for name, _ in backbone.named_parameters() if _matches(name, (prefix,))}
    missing = [prefix for prefix in prefixes if prefix not in hit]
    if missing:
        names = sorted({name.rsplit(".", 1)[0] for name, _ in backbone.named_parameters()})
        raise ValueError(f"freeze prefixes {missing} match no parameter; modules with parameters: {names}")
    for name, parameter in backbone.named_parameters():
        if _matches(name, prefixes):
            parameter.requires_grad_(False)
    return frozen_modules


@torch.no_grad()
def reestimate_batch_norm(model: nn.Module, batches: Iterable[Any], device: torch.device) -> int:
    """Replace every BatchNorm layer's running statistics by their average over ``batches`` (inputs first).

    Why: a frozen BN layer normalises with the statistics it holds. A random init holds the
    initial ones (mean 0, variance 1), which describe no data: at conv5 of a random AlexNet the
    features have std about 0.007, so they would pass unnormalised. Re-estimating them on the
    transfer images (a "precise BN" pass) gives every backbone data statistics before it is frozen.
    Only BN layers run in training mode during the pass, so dropout stays off; weights are untouched.
    Returns the number of BN layers re-estimated.
    """
    norms = [module for module in model.modules() if isinstance(module, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return 0
    was_training = model.training
    momenta = [norm.momentum for norm in norms]
    model.eval()
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the pass
        norm.train()
    for batch in batches:
        model(batch[0].to(device))
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    model.train(was_training)
    return len(norms)


def _lone_last_sample(dataset: Dataset, batch_size: int) -> bool:
    """Whether batching ``dataset`` leaves one sample alone in its last batch, which BatchNorm in
    training mode cannot normalise (it is then dropped; a dataset of one sample is kept)."""
    size = len(dataset)  # type: ignore[arg-type]
    return size % batch_size == 1 and size > batch_size


def shuffled_loader(dataset: Dataset, batch_size: int, seed: int, num_workers: int = 0) -> DataLoader:
    """A seeded shuffling loader; a lone last sample, which would break BatchNorm in training mode, is dropped."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=_lone_last_sample(dataset, batch_size),
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(seed),
    )


def fit_classifier(
    model: nn.Module,
    batches: Callable[[int], Iterable[Any]],
    epochs: int,
    step: CrossEntropyUpdate,
    scheduler: Any,
    device: torch.device,
    *,
    frozen: Sequence[nn.Module] = (),
    progress: bool = False,
) -> list[float]:
    """Fine-tune ``model`` on ``(inputs, labels)`` batches with ``step`` (plain or bilevel, ch. 8);
    returns the mean loss per epoch."""

    def update(batch: tuple[torch.Tensor, Any]) -> tuple[torch.Tensor, int]:
        inputs, targets = batch[0].to(device), torch.as_tensor(batch[1], dtype=torch.long, device=device)
        return step(inputs, targets), len(targets)

    return fit_epochs(
        batches, update, epochs, scheduler=scheduler, model=model, frozen=frozen, progress=progress, desc="fine-tune"
    )


@torch.no_grad()
def _accuracy(model: nn.Module, loader: DataLoader, device: torch.device) -> float:
    model.eval()
    correct = total = 0
    for images, targets in loader:
        predictions = model(images.to(device)).argmax(1).cpu()
        correct += int((predictions == torch.as_tensor(targets)).sum())
        total += len(predictions)
    return correct / max(1, total)


@register_evaluation("finetune", run_inputs=("labels_per_class", "device", "seed", "progress", "bilevel", "save_to"))
def finetune(
    backbone: TappedBackbone,
    train_set: Dataset,
    test_set: Dataset,
    epochs: int = 10,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    batch_size: int = 128,
    labels_per_class: int | None = None,
    device: str | torch.device = "cpu",
    seed: int = 0,
    freeze: Sequence[str] = (),
    reestimate_bn: bool = False,
    num_workers: int = 0,
    bilevel: dict[str, Any] | None = None,
    progress: bool = False,
    save_to: str | Path | None = None,
) -> dict[str, Any]:
    """Fine-tune a copy of ``backbone`` plus a linear head; report train/test accuracy (sec. 4.4).

    AdamW with a per-step cosine schedule from ``lr`` to 0 (the schedule of sec. 4.4's
    pre-training). ``labels_per_class`` trains on a seeded class-balanced subset; ``freeze``
    lists module-name prefixes of the backbone to keep fixed. ``reestimate_bn`` first replaces
    the backbone's BN running statistics by their average over the training images (see
    :func:`reestimate_batch_norm`): a fair start for a random init whose BN is frozen. Everything random (head
    initialisation, shuffling, dropout) is seeded by ``seed`` inside a forked RNG, so the
    caller's global RNG state is unchanged.

    ``bilevel`` (options of :class:`~transformrec.bilevel.BilevelOptimizer`, e.g. ``{"k": 8}``)
    trains with the mini-batch re-weighting of chapter 8 around the same AdamW: each step draws
    k mini-batches of ``batch_size`` with identical label counts (Remark 1), so an epoch still
    visits every sample once.

    Returns ``{"train_acc", "test_acc", "epoch_loss": [mean loss per epoch], "settings"}``
    with accuracies as fractions in ``[0, 1]``. ``save_to``: also write the fine-tuned network there
    (``{"backbone": state_dict, "head": state_dict, "settings"}``) and name the file as ``heads_path``.
    """
    device = torch.device(device)
    labels = dataset_labels(train_set)
    num_classes = dataset_num_classes(train_set, labels)
    if labels_per_class is not None:
        keep = low_shot_indices(labels, labels_per_class, seed)
        train_set, labels = Subset(train_set, keep.tolist()), labels[keep]
    if len(train_set) == 0:  # type: ignore[arg-type]
        raise ValueError("cannot fine-tune on an empty training set")
    cuda_devices = [device.index or 0] if device.type == "cuda" else []

    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        model = _Classifier(copy.deepcopy(backbone), num_classes).to(device)
        frozen = freeze_modules(model.backbone, freeze)
        if reestimate_bn:  # in a fixed order, without a lone last sample
            drop_lone = _lone_last_sample(train_set, batch_size)
            in_order = DataLoader(train_set, batch_size=batch_size, drop_last=drop_lone, num_workers=num_workers)
            reestimate_batch_norm(model.backbone, in_order, device)
        trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=weight_decay)
        step = CrossEntropyUpdate(model, optimizer, bilevel)
        sampler = step.sampler(labels, batch_size, seed)
        if sampler is not None:
            loader = DataLoader(train_set, batch_sampler=sampler, num_workers=num_workers)
        else:
            loader = shuffled_loader(train_set, batch_size, seed, num_workers)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs * len(loader)))
        batches = epochs_of(loader, sampler.set_epoch if sampler is not None else None)
        epoch_loss = fit_classifier(model, batches, epochs, step, scheduler, device, frozen=frozen, progress=progress)

        eval_loader = DataLoader(train_set, batch_size=batch_size, shuffle=False, num_workers=num_workers)
        test_loader = DataLoader(test_set, batch_size=batch_size, shuffle=False, num_workers=num_workers)
        train_acc = _accuracy(model, eval_loader, device)
        test_acc = _accuracy(model, test_loader, device)
    settings = {
        "epochs": epochs,
        "lr": lr,
        "weight_decay": weight_decay,
        "batch_size": batch_size,
        "labels_per_class": labels_per_class,
        "seed": seed,
        "freeze": list(freeze),
        "reestimate_bn": reestimate_bn,
        "num_train": len(train_set),  # type: ignore[arg-type]
        "num_classes": num_classes,
        "bilevel": bilevel,
    }
    saved = {}
    if save_to is not None:  # the fine-tuned network itself, not only its accuracy
        state = {"backbone": model.backbone.state_dict(), "head": model.head.state_dict(), "settings": settings}
        save_atomic(state, Path(save_to))
        saved = {"heads_path": str(save_to)}
    return {
        "evaluation": "finetune",
        "train_acc": train_acc,
        "test_acc": test_acc,
        "epoch_loss": epoch_loss,
        "settings": settings,
        **saved,
    }
