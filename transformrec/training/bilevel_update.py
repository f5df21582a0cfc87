"""The bilevel step of chapter 8 inside the pretext Trainer (an update strategy, see ``training/update.py``).

Each step the Trainer hands over a transformed batch of ``k × batch_size`` real images under
their transformations; it is split into k mini-batches with identical transformation-label
counts (Remark 1, ``balanced``) or at random, and :class:`~transformrec.bilevel.BilevelOptimizer`
weights their gradients by eq. 8.10 around the wrapped AdamW.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch

from transformrec.bilevel.balanced_sampler import balanced_partition
from transformrec.bilevel.optimizer import BilevelOptimizer
from transformrec.runtime.distributed import DistributedContext
from transformrec.training.loss import multi_head_loss, multi_head_loss_value
from transformrec.training.update import Update, UpdateResult, UpdateStrategy


class BilevelSteps(UpdateStrategy):
    """Train with the bilevel re-weighting of chapter 8 around the Trainer's optimiser.

    ``options``: :class:`~transformrec.bilevel.BilevelOptimizer` keyword arguments (``k``, ``mu``,
    ``lambda_``, ``method``, ...); ``balanced``: split each transformed batch into k mini-batches
    with identical transformation-label counts (Remark 1) instead of at random. Each step draws
    ``k × batch_size`` images (an epoch still visits every image once, sec. 8.2.1), without AMP
    (per-mini-batch gradients are taken in full precision), in a single process.
    """

    allows_amp = False

    def __init__(self, balanced: bool = True, **options: Any) -> None:
        self.balanced, self.options = bool(balanced), dict(options)

    @property
    def k(self) -> int:
        return int(self.options.get("k", 8))

    def images_per_step(self, batch_size: int) -> int:
        return batch_size * self.k

    def check_world_size(self, world_size: int) -> None:
        if world_size > 1:
            raise ValueError("bilevel training runs in a single process; launch without torchrun")

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
        return BilevelUpdate(
            model, optimizer, self.options, balanced=self.balanced, generator=generator, head_weights=head_weights
        )

    def record(self) -> dict[str, Any]:
        return {"bilevel": {**self.options, "balanced": self.balanced}}

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"BilevelSteps(balanced={self.balanced}{', ' if options else ''}{options})"


class BilevelUpdate:
    """k label-balanced mini-batches of the transformed batch, weighted by eq. 8.10.

    Args:
        model: the (single-process) transformation classifier.
        optimizer: the optimiser the bilevel weights wrap.
        options: :class:`BilevelOptimizer` keyword arguments (``k``, ``mu``, ``lambda_``, ...).
        balanced: split with identical label counts per mini-batch (Remark 1) instead of at random.
        generator: the Trainer's generator, so the split replays exactly on resume.
        head_weights: heads whose loss enters the sum with a weight other than 1.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        options: dict[str, Any],
        *,
        balanced: bool,
        generator: torch.Generator,
        head_weights: dict[str, float] | None = None,
    ) -> None:
        self.optimizer, self.balanced, self.generator = optimizer, balanced, generator
        self.loss = partial(multi_head_loss_value, weights=dict(head_weights or {}))
        self.bilevel = BilevelOptimizer(model, optimizer, **options)

    @property
    def k(self) -> int:
        return self.bilevel.k

    def __call__(
        self, network: torch.nn.Module, inputs: torch.Tensor, targets: dict[str, torch.Tensor]
    ) -> UpdateResult | None:
        k = self.bilevel.k
        first_head = next(iter(targets))
        if self.balanced:
            rows = balanced_partition(targets[first_head], k, self.generator).to(inputs.device)
        else:
            order = torch.randperm(inputs.shape[0], generator=self.generator)
            rows = order[: inputs.shape[0] // k * k].reshape(k, -1).to(inputs.device)
        stacked_inputs = inputs[rows]
        stacked_targets = {head: target[rows] for head, target in targets.items()}
        self.optimizer.zero_grad(set_to_none=True)
        result = self.bilevel.step(self.loss, stacked_inputs, stacked_targets)
        if not result.applied:
            return None
        flat_logits = {head: logits.flatten(0, 1) for head, logits in result.outputs.items()}
        _, head_metrics = multi_head_loss(flat_logits, {h: t.flatten(0, 1) for h, t in stacked_targets.items()})
        weights = result.weights
        extra = {
            "bilevel/validation_loss": result.validation_loss,
            "bilevel/negative_weights": float((weights < 0).float().mean()),
            "bilevel/weight_max": float(weights.max()),
        }
        return UpdateResult(float(result.losses.mean()), head_metrics, extra)
