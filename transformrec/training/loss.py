"""Multi-head cross-entropy with an ignore index, and per-head accuracy (eq. 4.1 generalised)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from transformrec.transforms.base import IGNORE_INDEX


def multi_head_loss(
    logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, dict[str, float]]:
    """Sum over heads of the mean cross-entropy over samples that have a target for that head.

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
        loss = F.cross_entropy(head_logits.float(), target, ignore_index=IGNORE_INDEX)
        total = loss if total is None else total + loss
        correct = (head_logits.argmax(-1) == target) & valid
        metrics[f"loss/{head}"] = float(loss.detach())
        metrics[f"acc/{head}"] = float(correct.sum()) / float(valid.sum())
    if total is None:
        raise ValueError(f"no head has a target in this batch (heads: {sorted(logits)})")
    return total, metrics


def global_multi_head_loss(
    logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor], world_size: int
) -> tuple[torch.Tensor, float, dict[str, float]]:
    """:func:`multi_head_loss` of the *global* batch when each of ``world_size`` ranks holds a shard.

    Why not the per-rank mean: DDP averages gradients over ranks, and a mean of per-rank means
    equals the global mean only when every rank has as many valid targets per head, which
    ``mode="sample"`` and extra heads do not guarantee. So each head's summed cross-entropy is
    divided by its *global* number of valid targets (one all-reduce of a ``heads × 3`` tensor)
    and scaled by ``world_size`` to undo DDP's averaging. Returns the tensor to back-propagate,
    the global loss value (identical on every rank, so all ranks agree on skipping a
    non-finite step) and global per-head metrics.

    A head without any valid target in the global batch stays in the graph with weight 0 (DDP
    needs a gradient for every parameter), so unlike a single process AdamW still decays it.
    """
    heads = sorted(logits)
    sums, stats = [], []
    for head in heads:
        target = targets[head]
        valid = target != IGNORE_INDEX
        summed = F.cross_entropy(logits[head].float(), target, ignore_index=IGNORE_INDEX, reduction="sum")
        correct = ((logits[head].argmax(-1) == target) & valid).sum()
        sums.append(summed)
        stats.append(torch.stack([summed.detach().double(), correct.double(), valid.sum().double()]))
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
        weight = world_size / count if count > 0 else 0.0
        loss = summed * weight if loss is None else loss + summed * weight
        if count > 0:
            value += ce / count
            metrics[f"loss/{head}"] = ce / count
            metrics[f"acc/{head}"] = correct / count
    return loss, value, metrics


def multi_head_loss_value(logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """The loss of :func:`multi_head_loss` without Python control flow on tensor values.

    Why: the bilevel step differentiates the loss of every mini-batch under ``torch.func.vmap``,
    which cannot branch on ``valid.any()``. A head with no target in the mini-batch contributes 0
    (its masked sum is 0 and the count is clamped to 1) instead of being skipped.
    """
    total = torch.zeros((), device=next(iter(logits.values())).device)
    for head, head_logits in logits.items():
        target = targets[head]
        valid = target != IGNORE_INDEX
        per_sample = F.cross_entropy(head_logits.float(), target.clamp_min(0), reduction="none")
        total = total + (per_sample * valid).sum() / valid.sum().clamp_min(1)
    return total
