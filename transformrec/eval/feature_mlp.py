"""Three fully-connected layers trained on frozen features (tables 5.1 and 5.3).

Why: chapter 5 transfers frozen conv features by training "three randomly initialized
fully-connected layers" on top, for action recognition and for the temporal tasks. The
optimiser is the thesis's transfer recipe: AdamW (β = 0.9, 0.99), weight decay 1e-4, cosine
decay of the learning rate by a factor 1e-3 (sec. 5.2.3).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch import nn

from transformrec.eval.features import standardization_stats
from transformrec.eval.fitting import fit_epochs, gradient_step, shuffled_index_batches
from transformrec.runtime.schedule import build_cosine_schedule


def three_layer_classifier(in_dim: int, num_classes: int, hidden: int = 512, dropout: float = 0.5) -> nn.Sequential:
    """FC-BN-ReLU-dropout twice, then the output layer (no BN on the last layer, as everywhere)."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden),
        nn.BatchNorm1d(hidden),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(hidden, hidden),
        nn.BatchNorm1d(hidden),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    )


def standardize(train: torch.Tensor, *others: torch.Tensor) -> list[torch.Tensor]:
    """Standardize every tensor with the statistics of ``train`` (last dimension = features).

    Leading dimensions (videos × clips) are flattened for the statistics only.
    """
    mean, std = standardization_stats(train.reshape(-1, train.shape[-1]))
    return [(m.float() - mean) / std for m in (train, *others)]


def train_feature_classifier(
    features: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    epochs: int = 50,
    lr: float = 1e-3,
    batch_size: int = 128,
    weight_decay: float = 1e-4,
    seed: int = 0,
    progress: bool = False,
) -> nn.Module:
    """Fit :func:`three_layer_classifier` on ``N×D`` features; returns it in eval mode.

    The loop is :func:`~transformrec.eval.fitting.fit_epochs` (``progress``: a bar over epochs).
    """
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = three_layer_classifier(features.shape[1], num_classes)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay)
    steps_per_epoch = max(1, -(-features.shape[0] // batch_size))
    scheduler = build_cosine_schedule(optimizer, epochs * steps_per_epoch, lr, lr * 1e-3)

    def update(batch: torch.Tensor) -> tuple[torch.Tensor, int] | None:
        if batch.numel() < 2:  # BatchNorm needs two samples
            return None
        return gradient_step(optimizer, F.cross_entropy(model(features[batch]), labels[batch])), batch.numel()

    batches = shuffled_index_batches(features.shape[0], batch_size, generator)
    fit_epochs(batches, update, epochs, scheduler=scheduler, model=model, progress=progress, desc="feature classifier")
    return model.eval()


@torch.no_grad()
def video_accuracy(model: nn.Module, clip_features: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """(video accuracy from class probabilities averaged over clips, accuracy of single clips)."""
    videos, clips, dim = clip_features.shape
    probabilities = model(clip_features.reshape(-1, dim)).softmax(-1).view(videos, clips, -1)
    video_acc = float((probabilities.mean(1).argmax(-1) == labels).float().mean())
    clip_acc = float((probabilities.argmax(-1) == labels[:, None]).float().mean())
    return video_acc, clip_acc
