"""Multi-head cross-entropy with an ignore index, and per-head accuracy (eq. 4.1 generalised)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from transformrec.targets import IGNORE_INDEX


def dense_logits_like(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Dense-head logits (``B×h×w``) average-pooled to the target grid (``B×M×N``) when they differ.

    Why: the mask of ch. 3 lives on the autoencoder's feature grid (H/16), the head on a backbone
    tap whose size depends on the backbone (AlexNet conv5 is H/16 at low resolution).
    """
    if logits.shape[-2:] == target.shape[-2:]:
        return logits
    return F.adaptive_avg_pool2d(logits.unsqueeze(1), target.shape[-2:])[:, 0]


def _head_terms(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Summed loss, number of correct predictions and number of valid targets of one head.

    Class heads (``B×K`` logits): cross-entropy. Dense heads (``B×h×w`` logits, ``B×M×N`` targets
    in {0, 1}): binary cross-entropy per cell, the L_mask of sec. 3.3.3.
    """
    valid = target != IGNORE_INDEX
    if logits.dim() == 2:
        summed = F.cross_entropy(logits.float(), target, ignore_index=IGNORE_INDEX, reduction="sum")
        correct = ((logits.argmax(-1) == target) & valid).sum()
        return summed, correct, valid.sum()
    logits = dense_logits_like(logits.float(), target)
    per_cell = F.binary_cross_entropy_with_logits(logits, target.clamp_min(0).float(), reduction="none")
    summed = (per_cell * valid).sum()
    correct = (((logits > 0).long() == target) & valid).sum()
    return summed, correct, valid.sum()


def multi_head_loss(
    logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor], weights: Mapping[str, float] | None = None
) -> tuple[torch.Tensor, dict[str, float]]:
    """Sum over heads of the mean cross-entropy over samples that have a target for that head.

    Dense heads (3-D logits) contribute their mean per-cell binary cross-entropy instead. A head
    named in ``weights`` enters the sum with that weight (the logged per-head losses are unweighted).

    A head with no valid target in the batch contributes nothing (plain ``cross_entropy``
    would return NaN). Returns the loss and, for logging, each head's loss and accuracy.
    """
    total = None
    metrics: dict[str, float] = {}
    for head, head_logits in logits.items():
        target = targets[head]
        valid = target != IGNORE_INDEX
        if not bool(valid.any()):
            continue
        if head_logits.dim() == 2:
            loss = F.cross_entropy(head_logits.float(), target, ignore_index=IGNORE_INDEX)
            correct = ((head_logits.argmax(-1) == target) & valid).sum()
        else:
            summed, correct, count = _head_terms(head_logits, target)
            loss = summed / count
        weighted = loss * (weights or {}).get(head, 1.0)
        total = weighted if total is None else total + weighted
        metrics[f"loss/{head}"] = float(loss.detach())
        metrics[f"acc/{head}"] = float(correct) / float(valid.sum())
    if total is None:
        raise ValueError(f"no head has a target in this batch (heads: {sorted(logits)})")
    return total, metrics


def global_multi_head_loss(
    logits: dict[str, torch.Tensor],
    targets: dict[str, torch.Tensor],
    world_size: int,
    weights: Mapping[str, float] | None = None,
) -> tuple[torch.Tensor, float, dict[str, float]]:
    """:func:`multi_head_loss` of the *global* batch when each of ``world_size`` ranks holds a shard.

    Why not the per-rank mean: DDP averages gradients over ranks, and a mean of per-rank means
    equals the global mean only when every rank has as many valid targets per head, which
    ``mode="sample"`` and extra heads do not guarantee. So each head's summed cross-entropy is
    divided by its *global* number of valid targets (one all-reduce of a ``heads × 3`` tensor)
    and scaled by ``world_size`` to undo DDP's averaging (and by the head's ``weights`` entry).
    Returns the tensor to back-propagate, the global loss value (identical on every rank, so all
    ranks agree on skipping a non-finite step) and global per-head metrics.

    A head without any valid target in the global batch stays in the graph with weight 0 (DDP
    needs a gradient for every parameter), so unlike a single process AdamW still decays it.
    """
    heads = sorted(logits)
    sums, stats = [], []
    for head in heads:
        summed, correct, count = _head_terms(logits[head], targets[head])
        sums.append(summed)
        stats.append(torch.stack([summed.detach().double(), correct.double(), count.double()]))
    totals = torch.stack(stats)
    if world_size > 1:
        torch.distributed.all_reduce(totals)
    totals = totals.cpu()
    if not bool((totals[:, 2] > 0).any()):
        raise ValueError(f"no head has a target in this batch (heads: {heads})")
    loss = None
    value = 0.0
    metrics: dict[str, float] = {}
    for head, summed, (ce, correct, count) in zip(heads, sums, totals.tolist(), strict=True):
        head_weight = (weights or {}).get(head, 1.0)
        weight = head_weight * world_size / count if count > 0 else 0.0
        loss = summed * weight if loss is None else loss + summed * weight
        if count > 0:
            value += head_weight * ce / count
            metrics[f"loss/{head}"] = ce / count
            metrics[f"acc/{head}"] = correct / count
    return loss, value, metrics


def multi_head_loss_value(
    logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor], weights: Mapping[str, float] | None = None
) -> torch.Tensor:
    """The loss of :func:`multi_head_loss` without Python control flow on tensor values.

    Why: the bilevel step differentiates the loss of every mini-batch under ``torch.func.vmap``,
    which cannot branch on ``valid.any()``. A head with no target in the mini-batch contributes 0
    (its masked sum is 0 and the count is clamped to 1) instead of being skipped.
    """
    total = torch.zeros((), device=next(iter(logits.values())).device)
    for head, head_logits in logits.items():
        target = targets[head]
        valid = target != IGNORE_INDEX
        if head_logits.dim() == 2:
            per_sample = F.cross_entropy(head_logits.float(), target.clamp_min(0), reduction="none")
        else:
            dense = dense_logits_like(head_logits.float(), target)
            per_sample = F.binary_cross_entropy_with_logits(dense, target.clamp_min(0).float(), reduction="none")
        head_weight = (weights or {}).get(head, 1.0)
        total = total + head_weight * (per_sample * valid).sum() / valid.sum().clamp_min(1)
    return total
