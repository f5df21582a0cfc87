"""The Transform contract shared by every pretext task (the docs' concepts page "Transforms and the label space").

A transform contributes one or more *classes* to a classification head and maps a batch to a
transformed batch. Which class each sample gets (its *variant*) is decided by the
:class:`~transformrec.transforms.transform_set.TransformSet`; the transform only samples its own
random parameters, from the generator it is handed, so a seed replays a batch exactly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import torch
from torch import nn
from torch.utils.data import Dataset

from transformrec.targets import IGNORE_INDEX

__all__ = ["IGNORE_INDEX", "LearnedTransform", "PreDecodingTransform", "Transform"]


class Transform(ABC):
    """A (possibly multi-class) data transformation the classifier learns to recognise.

    Subclasses set ``name`` and ``modality`` and implement :meth:`variant_names` and
    :meth:`apply`. ``head`` names the classification head their classes belong to.
    """

    name: ClassVar[str] = "transform"
    modality: ClassVar[str] = "image"
    head: str = "transform"
    conflicts_with: ClassVar[tuple[str, ...]] = ()
    """Classes that must not share a head with this transform's (e.g. ``identity`` beside
    damage & repair's ``real``, which already is the untransformed class)."""

    @abstractmethod
    def variant_names(self) -> tuple[str, ...]:
        """Class names this transform contributes to ``head`` (e.g. rot90, rot180, rot270)."""

    def extra_heads(self) -> dict[str, tuple[str, ...]]:
        """Other heads this transform provides targets for (e.g. the speed head of ch. 5)."""
        return {}

    def head_weights(self) -> dict[str, float]:
        """Weights of this transform's heads in the summed loss (default 1 for every head).

        E.g. the mask head of ch. 3 enters the authors' loss with weight 0.1.
        """
        return {}

    def check_image_size(self, height: int, width: int) -> None:  # noqa: B027 - optional hook
        """Raise ValueError when this transform cannot work on ``height``×``width`` images.

        Called by the Trainer before any compute (e.g. an LCI patch larger than the image), so a
        size that would fail at the first step fails when the run is set up instead.
        """

    def dense_heads(self) -> dict[str, str]:
        """Dense heads this transform provides per-cell binary targets for, by name → backbone tap.

        E.g. the mask head of ch. 3 (``{"mask": "conv5"}``): the classifier predicts one logit per
        cell of that tap's feature map, and :meth:`apply` returns ``B×M×N`` targets in {0, 1} (or
        ``IGNORE_INDEX``) under the head's name.
        """
        return {}

    @abstractmethod
    def apply(
        self, batch: torch.Tensor, variant: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Transform ``batch`` where sample b becomes variant ``variant[b]`` of this transform.

        Returns the transformed batch and targets for :meth:`extra_heads` (class indices, or
        ``IGNORE_INDEX`` where a sample has none). Runs on the batch's device.
        """

    def adapt_data(self, data: Dataset, transform_set: Any, *, seed: int, augment: Any) -> Dataset | None:
        """A data set that prepares this modality's samples before decoding, or ``None``.

        Image transforms return ``None``: the Trainer decodes a batch of images and applies the
        TransformSet to it on the device. A modality that must choose *which* frames or views to
        decode (the temporal samplers of ch. 5, the view pairs of ch. 6) returns a data set whose
        items are ``(K×… samples, {head: K targets})``, one sample per class of ``transform_set``;
        it then also owns the augmentation (``augment``: a ``RandomCropFlip`` or ``None``) and its
        randomness, a function of ``(seed, epoch, index)`` so that resume replays it. The Trainer
        asks :meth:`TransformSet.data_path` and never tests modality names.
        """
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class PreDecodingTransform(Transform):
    """A transform that chooses *which* frames or views to decode: it works only through its adapter.

    The temporal samplers of ch. 5 and the view pairs of ch. 6 are index samplers; there is no
    batch of decoded tensors for them to transform, so :meth:`apply` refuses, naming the data set
    (``data_kind``) that :meth:`adapt_data` turns into transformed samples.
    """

    data_kind: ClassVar[str] = "a data set its adapt_data accepts"

    def apply(self, batch, variant, generator=None):
        raise TypeError(
            f"{type(self).__name__} chooses its samples before decoding; train it on {self.data_kind} "
            f"({type(self).__name__}.adapt_data prepares them), not on a batch of decoded tensors"
        )


class LearnedTransform(Transform, nn.Module):
    """A transform with trainable parts (the LCI inpainter of ch. 4, damage & repair of ch. 3).

    The trainer calls :meth:`update` once per iteration with the real batch and the
    transformation classifier, because the learned transform's loss includes fooling it. The
    classifier comes as a :class:`~transformrec.transforms.classifier_feedback.MixedBatchFeedback`
    of the step's transformed batch (callable like the classifier), so that
    :func:`~transformrec.transforms.classifier_feedback.classifier_loss` sees C as it is trained.
    Its networks *and* optimisers travel in checkpoints through :meth:`checkpoint_state`.
    """

    decoy_for: tuple[str, ...] = ()
    """Names of transforms whose inputs get decoys from :meth:`make_decoys` (sec. 4.2.4)."""

    def __init__(self) -> None:
        nn.Module.__init__(self)
        self.pretrained_steps = 0

    def bind_labels(self, head: str, labels: dict[str, int]) -> None:  # noqa: B027 - optional hook
        """Told by the TransformSet which label index each of its classes has on ``head``.

        Needed by transforms whose loss asks the classifier about their own class (−L_SSL).
        """

    def update(self, real_batch: torch.Tensor, classifier: Any) -> dict[str, float]:
        """One optimisation step of the transform's own networks; returns scalars to log.

        ``classifier``: the Trainer's ``MixedBatchFeedback``, or a bare classifier module.
        """
        return {}

    def make_decoys(
        self, batch: torch.Tensor, generator: torch.Generator | None = None, differentiable: bool = False
    ) -> torch.Tensor:
        """Inputs of the transforms named in ``decoy_for``, with this transform's artefacts planted.

        Sec. 4.2.4: if untransformed images also carry the learned network's processing
        artefacts, the classifier cannot use those artefacts as a shortcut. ``differentiable``: the
        decoys keep the gradient to the transform's networks (for a loss that reaches them through
        the decoys). Default: unchanged.
        """
        return batch

    # ------------------------------------------------------------------ optional pre-training phase
    def pretraining_length(self) -> int:
        """Steps of the optional phase before the main loop (the ch. 3 autoencoder, a frozen LCI
        inpainter); 0, the default, when the transform has none."""
        return 0

    def pretraining_remaining(self) -> int:
        """Steps of the phase not yet done (a run resumed mid-phase continues from its checkpoint)."""
        return max(self.pretraining_length() - self.pretrained_steps, 0)

    def pretrain(
        self, batches: Iterator[torch.Tensor], after_step: Callable[[dict[str, float]], None] | None = None
    ) -> None:
        """Run the phase from where it stands: :meth:`pretrain_step` per batch until it is done.

        ``batches`` yields augmented real batches, the first one being the phase's next batch.
        ``after_step(metrics)`` runs after every step with what :meth:`pretrain_step` measured; the
        trainer logs the metrics, checkpoints and stops on SIGINT / SIGTERM there. Why resumable:
        the thesis pre-trains its autoencoder for 80 ImageNet epochs, far too long to restart from
        scratch after an interruption. The step count travels in checkpoints, so a resumed run
        calls this again and continues bit for bit.
        """
        if self.pretraining_remaining() == 0:
            return
        self.enter_pretraining()
        finished = False
        try:
            for real_batch in batches:
                metrics = self.pretrain_step(real_batch, self.pretrained_steps) or {}
                self.pretrained_steps += 1
                finished = self.pretraining_remaining() == 0
                if finished:
                    self.leave_pretraining(finished=True)  # a checkpoint written next holds the end state
                if after_step is not None:
                    after_step(metrics)
                if finished:
                    return
        finally:
            if not finished:
                self.leave_pretraining(finished=False)

    def enter_pretraining(self) -> None:  # noqa: B027 - optional hook
        """Prepare the phase's networks for training (called whenever :meth:`pretrain` starts or resumes)."""

    def pretrain_step(self, real_batch: torch.Tensor, step: int) -> dict[str, float] | None:
        """One step of the phase (``step`` counts from 0 over the whole phase, resumed or not); returns
        scalars to log for it (its loss, its learning rate), or None."""
        raise NotImplementedError(f"{type(self).__name__} declares a pre-training phase but no pretrain_step")

    def leave_pretraining(self, finished: bool) -> None:  # noqa: B027 - optional hook
        """Undo :meth:`enter_pretraining`; ``finished``: the phase is complete (freeze what it trained)."""

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The transform's own optimisers, by name, so they can be checkpointed."""
        return {}

    def checkpoint_state(self) -> dict[str, Any]:
        """Network weights and optimiser states, for atomic checkpoints and exact resume."""
        return {
            "module": self.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers().items()},
            "pretrained_steps": self.pretrained_steps,
        }

    def load_checkpoint_state(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`checkpoint_state`."""
        self.load_state_dict(state["module"])
        for name, opt in self.optimizers().items():
            opt.load_state_dict(state["optimizers"][name])
        # Checkpoints written before the phase was resumable exist only after it had finished.
        self.pretrained_steps = state.get("pretrained_steps", self.pretraining_length())
