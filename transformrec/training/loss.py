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
