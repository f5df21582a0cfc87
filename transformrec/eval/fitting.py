"""The one optimisation loop under every evaluation protocol that trains something.

Why one loop: linear probes and the three-layer classifier on frozen features (tables 3.4, 4.2,
5.1, 5.3), and full fine-tuning (tables 4.4, 4.7, 5.1, 6.3) all run "epochs of mini-batches, one
update each, a schedule step after each update, mean loss per epoch". A protocol says only what a
batch is and what one update does (:func:`fit_epochs`'s ``update``); frozen modules stay in eval
mode (frozen BatchNorm must not move its statistics) and long fits show a progress bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch import nn

from transformrec.bilevel.balanced_sampler import BalancedBatchSampler
from transformrec.bilevel.optimizer import BilevelOptimizer, split_bilevel_options, stack_minibatches
from transformrec.runtime.progress import progress as progress_display

Update = Callable[[Any], "tuple[torch.Tensor, int] | None"]
"""One update on a batch: returns (its loss, its number of samples), or None to skip the batch."""


def gradient_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> torch.Tensor:
    """Clear gradients, back-propagate ``loss`` and step ``optimizer``; returns the detached loss."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def shuffled_index_batches(
    num: int, batch_size: int, generator: torch.Generator, device: torch.device | str | None = None
) -> Callable[[int], Iterator[torch.Tensor]]:
    """Per epoch, a fresh permutation of ``range(num)`` drawn from ``generator``, cut into batches.

    For data already in memory (cached features); the permutation is drawn on the CPU, so a seed
    gives the same order on every device.
    """

    def batches(_epoch: int) -> Iterator[torch.Tensor]:
        order = torch.randperm(num, generator=generator)
        if device is not None:
            order = order.to(device)
        for start in range(0, num, batch_size):
            yield order[start : start + batch_size]

    return batches


def fit_epochs(
    batches: Callable[[int], Iterable[Any]],
    update: Update,
    epochs: int,
    *,
    scheduler: Any = None,
    model: nn.Module | None = None,
    frozen: Sequence[nn.Module] = (),
    progress: bool = False,
    desc: str = "fit",
) -> list[float]:
    """Run ``epochs`` epochs of ``update`` over ``batches(epoch)``; returns the mean loss of each epoch.

    ``model`` is put in train mode at the start of every epoch (after an evaluation may have left it
    in eval mode), then every module of ``frozen`` back in eval mode. ``scheduler`` steps after each
    update that was not skipped. The mean is weighted by the sample count each update reports.
    """
    epoch_losses: list[float] = []
    bar = progress_display(range(epochs), desc=desc, enabled=progress, leave=False)
    for epoch in bar:
        if model is not None:
            model.train()
            for module in frozen:
                module.eval()
        total, count = 0.0, 0
        for batch in batches(epoch):
            outcome = update(batch)
            if outcome is None:
                continue
            loss, size = outcome
            if scheduler is not None:
                scheduler.step()
            total += float(loss) * size
            count += size
        epoch_losses.append(total / max(count, 1))
        bar.set_postfix(loss=f"{epoch_losses[-1]:.3f}")
    return epoch_losses


def epochs_of(batches: Iterable[Any], set_epoch: Callable[[int], None] | None = None) -> Callable[[int], Iterable[Any]]:
    """``batches`` (a DataLoader, a batch sampler) as a function of the epoch, telling it the epoch first.

    ``set_epoch`` reseeds whatever draws per epoch (a balanced sampler, random clip speeds).
    """

    def for_epoch(epoch: int) -> Iterable[Any]:
        if set_epoch is not None:
            set_epoch(epoch)
        return batches

    return for_epoch


def bilevel_cross_entropy_step(bilevel: Any, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """One chapter-8 step on a batch of k equal mini-batches: cross-entropy, weights by eq. 8.10.

    ``bilevel`` is a :class:`~transformrec.bilevel.BilevelOptimizer`; returns the mean mini-batch loss.
    """
    k = bilevel.k
    bilevel.zero_grad(set_to_none=True)
    step = bilevel.step(F.cross_entropy, stack_minibatches(inputs, k), stack_minibatches(targets, k))
    return step.losses.mean().detach()


class CrossEntropyUpdate:
    """How a protocol's classifier learns from one batch: a cross-entropy step of its optimiser, or,
    with ``bilevel`` (the options of ``evaluation.bilevel``), chapter 8's step around the same
    optimiser on k mini-batches weighted by eq. 8.10, which then also chooses the batches
    (:meth:`sampler`: k mini-batches with identical label counts, Remark 1).

    One object for the linear probe and fine-tuning, so that neither protocol branches on bilevel:
    it asks this object for its batch order and calls it on each batch.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, bilevel: dict[str, Any] | None = None):
        self.model, self.optimizer = model, optimizer
        self.bilevel: BilevelOptimizer | None = None
        self.balanced = True
        if bilevel is not None:
            options, self.balanced = split_bilevel_options(bilevel)
            self.bilevel = BilevelOptimizer(model, optimizer, **options)

    def sampler(self, labels: torch.Tensor, batch_size: int, seed: int) -> BalancedBatchSampler | None:
        """The batch order the update needs (bilevel: k label-balanced mini-batches of ``batch_size``
        per step, so an epoch still visits every sample once); ``None``: the protocol's own."""
        if self.bilevel is None:
            return None
        return BalancedBatchSampler(labels, batch_size, self.bilevel.k, seed=seed, balanced=self.balanced)

    def __call__(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """One update on a batch; returns its (mean mini-batch) loss, detached."""
        if self.bilevel is not None:
            return bilevel_cross_entropy_step(self.bilevel, inputs, targets)
        return gradient_step(self.optimizer, F.cross_entropy(self.model(inputs), targets))
