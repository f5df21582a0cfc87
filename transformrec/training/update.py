"""How the pretext Trainer turns a transformed batch into one parameter update.

The Trainer builds inputs and per-head targets; an update strategy does the rest: the plain
gradient step of eq. 4.1 (:class:`GradientUpdate`), or the bilevel re-weighting of chapter 8
(:class:`~transformrec.training.bilevel_update.BilevelUpdate`). Both return an
:class:`UpdateResult`, or ``None`` when the loss was not finite and nothing was updated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from transformrec.runtime.distributed import DistributedContext
from transformrec.training.loss import global_multi_head_loss, multi_head_loss


@dataclass
class UpdateResult:
    """The step's loss, its per-head accuracies and losses, and strategy-specific scalars to log."""

    loss: float
    head_metrics: dict[str, float]
    extra: dict[str, float] = field(default_factory=dict)


class GradientUpdate:
    """Summed multi-head cross-entropy, one backward pass, one optimiser step (eq. 4.1).

    Under ``torchrun`` the loss is normalised over the global batch, so N processes take the step
    one process would. ``amp`` autocasts the forward pass; ``channels_last`` feeds image batches
    in NHWC layout (the model was converted to match). ``head_weights``: heads whose loss enters the
    sum with a weight other than 1 (the TransformSet's :attr:`head_weights`).
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        context: DistributedContext,
        *,
        amp: bool = False,
        channels_last: bool = False,
        head_weights: dict[str, float] | None = None,
    ) -> None:
        self.optimizer, self.context = optimizer, context
        self.amp, self.channels_last = amp, channels_last
        self.head_weights = dict(head_weights or {})

    def __call__(
        self, network: torch.nn.Module, inputs: torch.Tensor, targets: dict[str, torch.Tensor]
    ) -> UpdateResult | None:
        if self.channels_last and inputs.dim() == 4:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        with torch.autocast(inputs.device.type, enabled=self.amp):
            logits = network(inputs)
        if self.context.enabled:
            loss, value, head_metrics = global_multi_head_loss(
                logits, targets, self.context.world_size, self.head_weights
            )
        else:
            loss, head_metrics = multi_head_loss(logits, targets, self.head_weights)
            value = float(loss.detach())
        self.optimizer.zero_grad(set_to_none=True)
        if not math.isfinite(value):
            return None
        loss.backward()
        self.optimizer.step()
        return UpdateResult(value, head_metrics)
