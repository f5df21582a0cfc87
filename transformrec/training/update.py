"""How the pretext Trainer turns a transformed batch into one parameter update.

The Trainer builds inputs and per-head targets; an update strategy does the rest: the plain
gradient step of eq. 4.1 (:class:`GradientSteps`, building :class:`GradientUpdate`), or the
bilevel re-weighting of chapter 8 (:class:`~transformrec.training.bilevel_update.BilevelSteps`).
The caller chooses the strategy and passes it to the Trainer, and the strategy carries its own
rules (how many images a step draws, whether AMP or several processes are allowed, what the run
records about it), so the Trainer has no branch per strategy. Updates return an
:class:`UpdateResult`, or ``None`` when the loss was not finite and nothing was updated.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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


Update = Callable[[torch.nn.Module, torch.Tensor, dict[str, torch.Tensor]], "UpdateResult | None"]
"""One bound update: (network, inputs, per-head targets) → :class:`UpdateResult`, or ``None``."""


class UpdateStrategy:
    """How a Trainer updates its model, passed in by the caller; :meth:`build` binds it to the run.

    Subclasses override :meth:`build` and, where they differ from a plain gradient step, the rules
    below.
    """

    allows_amp = True
    """Whether AMP autocasting may be used (a strategy that differentiates per mini-batch may not)."""

    def images_per_step(self, batch_size: int) -> int:
        """Real images one step draws for a ``batch_size`` of the schedule."""
        return batch_size

    def check_world_size(self, world_size: int) -> None:
        """Refuse a number of processes the strategy cannot run under (ValueError)."""

    def build(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        context: DistributedContext,
        generator: torch.Generator,
        *,
        amp: bool,
        channels_last: bool,
        head_weights: dict[str, float],
    ) -> Update:
        raise NotImplementedError

    def record(self) -> dict[str, Any]:
        """What the run's summary and resume signature say about its update (``bilevel``: its
        options, ``None`` for plain gradient steps; the key every summary has carried)."""
        return {"bilevel": None}


class GradientSteps(UpdateStrategy):
    """The plain gradient step of eq. 4.1 (:class:`GradientUpdate`): the Trainer's default."""

    def build(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        context: DistributedContext,
        generator: torch.Generator,
        *,
        amp: bool,
        channels_last: bool,
        head_weights: dict[str, float],
    ) -> Update:
        return GradientUpdate(optimizer, context, amp=amp, channels_last=channels_last, head_weights=head_weights)

    def __repr__(self) -> str:
        return "GradientSteps()"
