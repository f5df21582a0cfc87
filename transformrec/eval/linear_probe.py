"""Linear classifiers on frozen features, one per tap (sec. 4.4, tables 4.2, 4.5, 4.6).

Why: the thesis measures representation quality by training a linear classifier "on top of
each convolutional layer" of the frozen transformation classifier. Features are extracted
once for all taps, standardized with training statistics and cached; a multinomial logistic
regression (``nn.Linear`` + cross-entropy, Adam) is then trained per tap on the cached
matrices, which is much cheaper than re-running the backbone every epoch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset, Subset

from transformrec.atomic_save import save_atomic
from transformrec.backbones.base import TappedBackbone
from transformrec.eval.features import dataset_labels, dataset_num_classes, extract_features, standardization_stats
from transformrec.eval.fitting import CrossEntropyUpdate, fit_epochs, shuffled_index_batches
from transformrec.eval.low_shot import low_shot_indices
from transformrec.eval.probe_augmentation import AugmentedViews
from transformrec.eval.registry import register_evaluation
from transformrec.runtime.progress import progress as progress_display


@dataclass
class LinearProbeResult:
    """Per-tap accuracies (fractions in ``[0, 1]``) and the settings that produced them."""

    per_tap: dict[str, dict[str, float]]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def best_tap(self) -> str:
        """Tap with the highest test accuracy (the earliest tap wins a tie)."""
        return max(self.per_tap, key=lambda tap: self.per_tap[tap]["test_acc"])

    @property
    def best_test_acc(self) -> float:
        return self.per_tap[self.best_tap]["test_acc"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary, the format every registered evaluation returns."""
        return {
            "evaluation": "linear_probe",
            **asdict(self),
            "best_tap": self.best_tap,
            "best_test_acc": self.best_test_acc,
        }


def fit_linear_classifier(
    features: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    epochs: int = 100,
    lr: float = 1e-3,
    weight_decay: float = 5e-4,
    batch_size: int = 256,
    seed: int = 0,
    bilevel: dict[str, Any] | None = None,
    progress: bool = False,
) -> nn.Linear:
    """Train a multinomial logistic regression on (already standardized) ``N×D`` features.

    Why zero initialisation and a private generator: the problem is convex, so starting at
    zero loses nothing and, with minibatch order drawn from ``torch.Generator(seed)``, makes
    the probe deterministic without touching the global RNG. Trains on ``features.device``.

    ``bilevel`` (options of :class:`~transformrec.bilevel.BilevelOptimizer`) trains with the
    chapter 8 re-weighting around the same Adam: k label-balanced mini-batches of ``batch_size``
    per step, so an epoch still visits every sample once. The loop is
    :func:`~transformrec.eval.fitting.fit_epochs` (``progress``: a bar over epochs).
    """
    if features.shape[0] != labels.shape[0]:
        raise ValueError(f"{features.shape[0]} feature rows but {labels.shape[0]} labels")
    device = features.device
    labels = labels.to(device)
    classifier = nn.utils.skip_init(nn.Linear, features.shape[1], num_classes, device=device)
    nn.init.zeros_(classifier.weight)
    nn.init.zeros_(classifier.bias)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=lr, weight_decay=weight_decay)
    step = CrossEntropyUpdate(classifier, optimizer, bilevel)
    sampler = step.sampler(labels.cpu(), batch_size, seed)
    if sampler is not None:

        def batches(epoch: int) -> Iterator[torch.Tensor]:
            sampler.set_epoch(epoch)
            return (torch.as_tensor(indices, device=device) for indices in sampler)

    else:
        batches = shuffled_index_batches(features.shape[0], batch_size, torch.Generator().manual_seed(seed), device)

    def update(batch: torch.Tensor) -> tuple[torch.Tensor, int]:
        return step(features[batch], labels[batch]), batch.numel()

    fit_epochs(batches, update, epochs, progress=progress, desc="linear probe")
    return classifier


@torch.no_grad()
def _accuracy(classifier: nn.Linear, features: torch.Tensor, labels: torch.Tensor, batch_size: int = 4096) -> float:
    correct = 0
    for start in range(0, features.shape[0], batch_size):
        logits = classifier(features[start : start + batch_size])
        correct += int((logits.argmax(1).cpu() == labels[start : start + batch_size].cpu()).sum())
    return correct / max(1, features.shape[0])


@register_evaluation(
    "linear_probe", run_inputs=("labels_per_class", "device", "seed", "progress", "bilevel", "save_to")
)
def linear_probe(
    backbone: TappedBackbone,
    train_set: Dataset,
    test_set: Dataset,
    taps: Sequence[str] | None = None,
    labels_per_class: int | None = None,
    epochs: int = 100,
    lr: float = 1e-3,
    weight_decay: float = 5e-4,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    seed: int = 0,
    target_dim: int = 9216,
    resize: str = "both",
    augment_views: int = 0,
    bilevel: dict[str, Any] | None = None,
    progress: bool = False,
    save_to: str | Path | None = None,
) -> dict[str, Any]:
    """Linear-probe accuracy of every tap of a frozen ``backbone`` (sec. 4.4, tables 3.4, 4.2/4.5/4.6).

    The training set is optionally reduced to ``labels_per_class`` examples per class (seeded,
    :func:`~transformrec.eval.low_shot.low_shot_indices`) and extended by ``augment_views`` random
    crop + flip views of each (:class:`~transformrec.eval.probe_augmentation.AugmentedViews`; the
    thesis's probes train on random crops). Features are extracted once and every tap is resized to
    about ``target_dim`` dimensions: ``resize="both"`` (default) pools large maps down and upsamples
    small ones, so every layer is probed at a comparable size, as sec. 3.4 does (at 32 px every
    AlexNet map is smaller than the 9216-dim grid); ``"down"`` never upsamples (sec. 4.4's "without
    resizing"). Features are standardized with the training statistics and a seeded logistic
    regression is trained per tap for ``epochs`` epochs.

    Returns ``{"per_tap": {tap: {"train_acc", "test_acc"}}, "best_tap", "best_test_acc",
    "settings"}`` with accuracies as fractions in ``[0, 1]``. ``save_to``: also write the trained
    probes there (per tap its ``weight``, ``bias`` and the standardisation ``mean`` / ``std`` of the
    resized features, with the settings; ``torch.load(..., weights_only=True)`` reads it) and name
    the file as ``heads_path``. ``bilevel`` trains every probe with
    the bilevel optimiser of chapter 8 (see :func:`fit_linear_classifier`).
    """
    taps = tuple(backbone.tap_names if taps is None else taps)
    num_classes_source = train_set
    if labels_per_class is not None:
        # Select before extracting: 60k images x 9k dims x 7 taps would not fit in memory.
        train_set = Subset(train_set, low_shot_indices(dataset_labels(train_set), labels_per_class, seed).tolist())
    if augment_views:
        train_set = AugmentedViews(train_set, augment_views, seed)
    extract = {"taps": taps, "batch_size": batch_size, "device": device, "target_dim": target_dim, "resize": resize}
    train_feats, train_labels = extract_features(backbone, train_set, progress=progress, **extract)
    test_feats, test_labels = extract_features(backbone, test_set, progress=progress, **extract)
    num_classes = dataset_num_classes(num_classes_source, torch.cat([train_labels, test_labels]))

    per_tap: dict[str, dict[str, float]] = {}
    heads: dict[str, dict[str, torch.Tensor]] = {}
    for tap in progress_display(taps, desc="linear probes", enabled=progress, leave=False):
        mean, std = standardization_stats(train_feats[tap])
        train_x = ((train_feats[tap] - mean) / std).to(device)
        test_x = ((test_feats[tap] - mean) / std).to(device)
        classifier = fit_linear_classifier(
            train_x, train_labels, num_classes, epochs, lr, weight_decay, batch_size, seed, bilevel
        )
        per_tap[tap] = {
            "train_acc": _accuracy(classifier, train_x, train_labels),
            "test_acc": _accuracy(classifier, test_x, test_labels),
            "feature_dim": int(train_x.shape[1]),
        }
        heads[tap] = {"weight": classifier.weight.detach().cpu(), "bias": classifier.bias.detach().cpu()}
        heads[tap].update(mean=mean.cpu(), std=std.cpu())
    settings = {
        "taps": list(taps),
        "labels_per_class": labels_per_class,
        "epochs": epochs,
        "lr": lr,
        "weight_decay": weight_decay,
        "batch_size": batch_size,
        "seed": seed,
        "target_dim": target_dim,
        "resize": resize,
        "augment_views": augment_views,
        "num_train": int(train_labels.numel()),
        "num_test": int(test_labels.numel()),
        "num_classes": num_classes,
        "bilevel": bilevel,
    }
    result = LinearProbeResult(per_tap=per_tap, settings=settings).to_dict()
    if save_to is not None:  # the probes themselves, so a result can be used and not only read
        save_atomic({"heads": heads, "settings": settings}, Path(save_to))
        result["heads_path"] = str(save_to)
    return result
