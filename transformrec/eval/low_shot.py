"""Seeded, class-balanced subsets of a labelled set (low-shot transfer and held-out splits).

Why: transfer results with few labels (e.g. STL-10's small labelled set in sec. 4.4, or
``labels_per_class`` in the linear probe and fine-tuning) are only comparable across runs
when every class contributes the same number of examples and the draw is reproducible.
"""

from __future__ import annotations

import torch


def _as_labels(labels: torch.Tensor) -> torch.Tensor:
    labels = torch.as_tensor(labels, dtype=torch.long).cpu()
    if labels.dim() != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {tuple(labels.shape)}")
    return labels


def low_shot_indices(labels: torch.Tensor, per_class: int, seed: int = 0) -> torch.Tensor:
    """Indices of exactly ``per_class`` examples of every class present in ``labels``.

    Why: a low-shot linear probe / fine-tune must be balanced and repeatable (sec. 4.4), so the
    draw uses its own ``torch.Generator`` seeded with ``seed`` (the global RNG is untouched)
    and fails loudly, naming the class, when a class cannot supply ``per_class`` examples.
    The result is sorted, so subsets keep the dataset's order.
    """
    labels = _as_labels(labels)
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    generator = torch.Generator().manual_seed(seed)
    chosen: list[torch.Tensor] = []
    for cls in torch.unique(labels).tolist():
        members = torch.nonzero(labels == cls).flatten()
        if members.numel() < per_class:
            raise ValueError(f"class {cls} has only {members.numel()} examples, fewer than per_class={per_class}")
        chosen.append(members[torch.randperm(members.numel(), generator=generator)[:per_class]])
    if not chosen:
        raise ValueError("labels are empty")
    return torch.sort(torch.cat(chosen)).values


def stratified_split(labels: torch.Tensor, val_fraction: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Split indices into ``(train, val)`` keeping each class's proportion.

    Why: hyper-parameters of the transfer protocols (epochs, weight decay) should be chosen on
    data held out from the labelled training set, never on the test set of sec. 4.4. Each class
    sends ``round(val_fraction · n_c)`` examples to ``val`` (at least one, and at least one left
    for ``train``, when the class has two or more). Both index sets are sorted.
    """
    labels = _as_labels(labels)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    generator = torch.Generator().manual_seed(seed)
    train: list[torch.Tensor] = []
    val: list[torch.Tensor] = []
    for cls in torch.unique(labels).tolist():
        members = torch.nonzero(labels == cls).flatten()
        members = members[torch.randperm(members.numel(), generator=generator)]
        n_val = round(val_fraction * members.numel())
        if members.numel() >= 2:
            n_val = min(max(n_val, 1), members.numel() - 1)
        val.append(members[:n_val])
        train.append(members[n_val:])
    empty = torch.empty(0, dtype=torch.long)
    return torch.sort(torch.cat(train or [empty])).values, torch.sort(torch.cat(val or [empty])).values
