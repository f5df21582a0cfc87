"""How a learned transform asks the transformation classifier C how well it is fooled.

The LCI inpainter minimises −L_SSL (sec. 4.2.1) and the repair network R maximises C's loss on
damaged images (eq. 3.4): each needs C's loss on its own outputs, with gradients flowing through C
into the transform, but without disturbing C's training, so C runs on throw-away copies of its
buffers. And C must be the function that is trained: in train mode BatchNorm normalises with the
batch's statistics, and a batch of *only* transformed images is another function than C on the
mixed batch it trains on (measured: C recognised LCI images at 0.945 in the mixed batch, at 0.469
alone). :class:`MixedBatchFeedback` therefore evaluates the transform's fresh outputs inside the
step's mixed batch — the other classes' samples as they are, the transform's own rows replaced by
differentiable ones — and weighs the term as eq. 4.1 does, by its share of the batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from transformrec.transforms.rotation_jitter import RotationJitter

if TYPE_CHECKING:
    from transformrec.transforms.transform_set import TransformSet


def call_with_scratch_buffers(module: nn.Module, inputs: torch.Tensor):
    """``module(inputs)`` in its current mode, with every buffer (BN running stats) replaced by a copy.

    Gradients still flow to ``inputs`` and to the module's parameters; the buffers the module
    keeps are left exactly as they were, and no saved tensor is modified after the forward.
    """
    scratch = {name: buffer.clone() for name, buffer in module.named_buffers()}
    return functional_call(module, scratch, (inputs,))


class MixedBatchFeedback:
    """C as it is trained in this step: the classifier plus the step's transformed batch and targets.

    ``loss(images, head, label)`` puts ``images`` (a learned transform's fresh, differentiable
    outputs) in place of the batch's rows of class ``label`` — as many as the batch has — and runs
    C once on that batch in train mode with scratch buffers, so BatchNorm sees the statistics of the
    batch C trains on. The result is eq. 4.1's term for that class: the summed cross-entropy over
    those rows divided by the size of the whole batch.
    """

    def __init__(
        self,
        classifier: nn.Module,
        inputs: torch.Tensor,
        targets: dict[str, torch.Tensor],
        rotation_jitter: RotationJitter | None = None,
        class_names: dict[str, list[str]] | None = None,
        generator: torch.Generator | None = None,
        transform_set: TransformSet | None = None,
    ) -> None:
        """``rotation_jitter`` (with the set's ``class_names`` per head and the step's ``generator``):
        the transform's fresh outputs are jittered as its samples in the batch were, so C is asked
        about the images it is trained on (the jitter is differentiable). ``transform_set``: the set
        that made the batch, for a learned transform that rebuilds its decoyed classes
        (:meth:`~transformrec.transforms.transform_set.TransformSet.decoyed_rows`)."""
        self.classifier, self.inputs, self.targets = classifier, inputs.detach(), targets
        self.rotation_jitter, self.class_names, self.generator = rotation_jitter, class_names or {}, generator
        self.transform_set = transform_set

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """The classifier itself on ``images`` (for transforms that need C's plain outputs)."""
        return self.classifier(images)

    def loss(self, images: torch.Tensor, head: str, label: int, target: int | None = None) -> torch.Tensor:
        """``images`` in place of the batch's rows of class ``label``; the cross-entropy is for class
        ``target`` (default ``label``: a non-saturating generator loss asks for another class)."""
        return self.rows_loss(head, {label: images}, target)

    def rows_loss(self, head: str, rows: dict[int, torch.Tensor], target: int | None = None) -> torch.Tensor:
        """Several classes at once, in one forward of C: ``rows[label]`` in place of the batch's rows of
        class ``label`` (as many as the batch has), each row's cross-entropy for its own class (or
        ``target``), summed and divided by the size of the whole batch (eq. 4.1's weighting).

        Why one forward: the LCI inpainter's −L_SSL reaches it through its own class *and* through the
        decoys it planted in other classes (the authors' whole-batch loss); asking C once per class
        would put the other classes' fresh rows in each other's context with their old values.
        """
        labels = self.targets[head]
        replaced = torch.zeros_like(labels, dtype=torch.bool)
        parts: list[torch.Tensor] = []
        wanted: list[torch.Tensor] = []
        for label, images in rows.items():
            own = labels == label
            count = min(int(own.sum()), images.shape[0])
            replaced |= own
            if count == 0:  # this batch holds no sample of the class (mode "sample"): no feedback from it
                continue
            own_images = images[:count].to(self.inputs.dtype)
            if self.rotation_jitter is not None:
                own_images = self.rotation_jitter(own_images, [self.class_names[head][label]] * count, self.generator)
            parts.append(own_images)
            value = label if target is None else target
            wanted.append(torch.full((count,), value, dtype=torch.long, device=labels.device))
        if not parts:
            return sum(images.sum() for images in rows.values()) * 0.0
        context = self.inputs[~replaced]
        batch = torch.cat([context, *parts])
        logits = call_with_scratch_buffers(self.classifier, batch)[head][context.shape[0] :]
        return F.cross_entropy(logits.float(), torch.cat(wanted), reduction="sum") / batch.shape[0]


def classifier_loss(
    classifier: nn.Module | MixedBatchFeedback, images: torch.Tensor, head: str, label: int, target: int | None = None
) -> torch.Tensor:
    """C's cross-entropy on ``images`` of class ``label`` of ``head`` (the LCI term of L_SSL, eq. 4.1),
    for class ``target`` (default ``label``).

    Given the step's :class:`MixedBatchFeedback` (what the Trainer passes), C is evaluated inside the
    mixed batch and the term is weighted by its share of it, as in eq. 4.1. Given a bare classifier
    module, the mean over ``images`` alone. Differentiable w.r.t. ``images``; C's BatchNorm
    statistics are left untouched.
    """
    if isinstance(classifier, MixedBatchFeedback):
        return classifier.loss(images, head, label, target)
    logits = call_with_scratch_buffers(classifier, images)[head]
    wanted = label if target is None else target
    targets = torch.full((images.shape[0],), wanted, dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits.float(), targets)
