"""TransformSet: declared transforms → label space per head → transformed batches with targets.

``TransformSet([Identity(), Rotation(), Warp()])`` builds the head ``transform`` with classes
``identity, rot90, rot180, rot270, warp``. In ``mode="all"`` every image appears under every
class, the objective of eq. 4.1; in ``mode="sample"`` each image gets one class drawn
uniformly, which keeps the batch size constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset

from transformrec.data.modality import AdaptedData
from transformrec.transforms.base import IGNORE_INDEX, LearnedTransform, Transform
from transformrec.transforms.registry import build_transform
from transformrec.transforms.rotation_jitter import RotationJitter

MODES = ("all", "sample")


@dataclass(frozen=True)
class ClassSlot:
    """One class of the label space: which transform produces it and with which variant."""

    transform_index: int
    variant: int
    head: str
    label: int
    name: str


@dataclass(frozen=True)
class DataPath:
    """How training data reaches the classifier for one TransformSet (see :meth:`TransformSet.data_path`).

    ``prepared``: the data set's items already are transformed samples with per-head targets,
    chosen before decoding by a modality's adapter, which also applied the augmentation; else the
    Trainer augments decoded image batches with ``batch_augment`` and applies the TransformSet.
    """

    dataset: Dataset
    batch_augment: Any
    prepared: bool

    def start_epoch(self, epoch: int) -> None:
        """Tell an adapter data set that ``epoch`` begins (:class:`~transformrec.data.modality.AdaptedData`:
        its draws are a function of the epoch); image data sets have nothing to be told."""
        if isinstance(self.dataset, AdaptedData):
            self.dataset.set_epoch(epoch)


def _as_transform(transform: Transform | str, index: int) -> Transform:
    """A registered name built with its defaults; a Transform as it is; anything else named by position."""
    if isinstance(transform, str):
        return build_transform(transform)  # an unknown name lists the known ones and the closest
    if not isinstance(transform, Transform):
        raise TypeError(
            f"TransformSet transforms[{index}]: expected a Transform or a registered name, "
            f"got {type(transform).__name__} {transform!r}"
        )
    return transform


class TransformSet:
    """A set of transforms defining a multi-head classification pretext task."""

    def __init__(
        self,
        transforms: Sequence[Transform | str],
        mode: str = "all",
        rotation_jitter: RotationJitter | None = None,
    ) -> None:
        """``transforms``: Transform objects or registered names (``"rotation"``, built with their
        defaults, as the Trainer and a config's ``transforms:`` accept them). ``rotation_jitter``: small
        rotations of some classes' samples after transforming (see
        :mod:`transformrec.transforms.rotation_jitter`); ``None`` (the default, the thesis) leaves them."""
        if not transforms:
            raise ValueError("a TransformSet needs at least one transform")
        if mode not in MODES:
            raise ValueError(f"TransformSet mode must be one of {MODES}, got {mode!r}")
        self.transforms = [_as_transform(t, index) for index, t in enumerate(transforms)]
        self.mode = mode
        self.heads: dict[str, list[str]] = {}
        self.slots: list[ClassSlot] = []
        for index, transform in enumerate(self.transforms):
            classes = self.heads.setdefault(transform.head, [])
            for variant, name in enumerate(transform.variant_names()):
                if name in classes:
                    raise ValueError(f"class {name!r} is declared twice on head {transform.head!r}")
                self.slots.append(ClassSlot(index, variant, transform.head, len(classes), name))
                classes.append(name)
        for transform in self.transforms:
            clashes = [name for name in transform.conflicts_with if name in self.heads.get(transform.head, [])]
            if clashes:
                raise ValueError(
                    f"{type(transform).__name__} cannot share head {transform.head!r} with {', '.join(clashes)}: "
                    "its own classes already cover that case"
                )
        for transform in self.transforms:
            for head, names in transform.extra_heads().items():
                known = self.heads.setdefault(head, list(names))
                if known != list(names):
                    raise ValueError(f"transforms disagree on the classes of head {head!r}: {known} vs {list(names)}")
        self.dense_heads: dict[str, str] = {}
        for transform in self.transforms:
            for head, tap in transform.dense_heads().items():
                if head in self.heads or self.dense_heads.setdefault(head, tap) != tap:
                    raise ValueError(f"dense head {head!r} is declared twice with different meanings")
        self.head_weights: dict[str, float] = {}
        """Each head's weight in the summed loss, where a transform declares one other than 1."""
        for transform in self.transforms:
            for head, weight in transform.head_weights().items():
                if self.head_weights.setdefault(head, weight) != weight:
                    raise ValueError(f"transforms disagree on the loss weight of head {head!r}")
        for learned in self.learned_transforms:
            classes = self.heads[learned.head]
            learned.bind_labels(learned.head, {name: classes.index(name) for name in learned.variant_names()})
        if rotation_jitter is not None:
            rotation_jitter.check_classes([slot.name for slot in self.slots])
        self.rotation_jitter = rotation_jitter

    @property
    def num_classes(self) -> dict[str, int]:
        """Number of classes per head, used to size the classifier heads."""
        return {head: len(names) for head, names in self.heads.items()}

    @property
    def learned_transforms(self) -> list[LearnedTransform]:
        """Transforms with their own networks, whose ``update`` the trainer calls every step."""
        return [t for t in self.transforms if isinstance(t, LearnedTransform)]

    def __len__(self) -> int:
        return len(self.slots)

    def check_image_size(self, height: int, width: int) -> None:
        """Refuse (ValueError naming the transform) an image size one of the transforms cannot work on."""
        for index, transform in enumerate(self.transforms):
            try:
                transform.check_image_size(height, width)
            except ValueError as error:
                where = f"transforms[{index}] ({transform.name}) on {height}×{width} images"
                raise ValueError(f"{where}: {error}") from None

    def data_path(self, data: Dataset, *, seed: int = 0, augment: Any = None) -> DataPath:
        """Where the Trainer's samples come from: ``data`` itself, or the adapter of the set's modality.

        Each transform's class may provide a data-set adapter (:meth:`Transform.adapt_data`) that picks
        frames or views before decoding. All transforms of a set must share one (a set mixing, say,
        temporal samplers with image rotations is refused); it is called once.
        """
        adapters = {type(t).adapt_data: t for t in self.transforms}
        if len(adapters) > 1:
            kinds = ", ".join(f"{type(t).__name__} ({t.modality})" for t in adapters.values())
            raise ValueError(
                f"transforms prepare their data in different ways and cannot share a TransformSet: {kinds}"
            )
        adapted = self.transforms[0].adapt_data(data, self, seed=seed, augment=augment)
        if adapted is None:
            return DataPath(data, augment, prepared=False)
        return DataPath(adapted, None, prepared=True)

    def __call__(
        self, images: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Transform a batch; returns inputs and per-head targets (``IGNORE_INDEX`` = no target).

        Dense heads (:attr:`dense_heads`) get per-cell targets of shape ``S×M×N`` (``S×1×1`` when no sample has one).

        ``mode="all"`` returns ``len(self) × B`` samples ordered class-major (all images under
        class 0, then class 1, …); ``mode="sample"`` returns ``B`` samples.
        """
        batch = images.shape[0]
        if self.mode == "all":
            slot_of_sample = torch.arange(len(self.slots)).repeat_interleave(batch)
            source = torch.arange(batch).repeat(len(self.slots))
        else:
            slot_of_sample = torch.randint(len(self.slots), (batch,), generator=generator)
            source = torch.arange(batch)
        return self.apply_slots(images, source, slot_of_sample, generator)

    def apply_slots(
        self,
        images: torch.Tensor,
        source: torch.Tensor,
        slot_of_sample: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Build sample i as class ``slot_of_sample[i]`` applied to ``images[source[i]]``.

        Transforms run once per transform on all their samples (batched), in declaration
        order, so the generator is consumed in a fixed order and a seed replays the batch.
        Before a transform runs, learned transforms that name it in ``decoy_for`` may plant
        their artefacts in its inputs (sec. 4.2.4). The rotation jitter, when set, runs last.
        """
        total = slot_of_sample.shape[0]
        device = images.device
        outputs = images.new_empty((total, *images.shape[1:]))
        targets = {head: torch.full((total,), IGNORE_INDEX, dtype=torch.long) for head in self.heads}
        dense: dict[str, torch.Tensor] = {}
        slot_transform = torch.tensor([s.transform_index for s in self.slots])
        slot_variant = torch.tensor([s.variant for s in self.slots])
        slot_label = torch.tensor([s.label for s in self.slots])
        for index, transform in enumerate(self.transforms):
            members = (slot_transform[slot_of_sample] == index).nonzero().flatten()
            if members.numel() == 0:
                continue
            variants = slot_variant[slot_of_sample[members]]
            inputs = images[source[members].to(device)]
            for learned in self.learned_transforms:
                if transform.name in learned.decoy_for:
                    inputs = learned.make_decoys(inputs, generator)
            transformed, extra = transform.apply(inputs, variants, generator)
            outputs[members.to(device)] = transformed
            targets[transform.head][members] = slot_label[slot_of_sample[members]]
            for head, values in extra.items():
                if head in self.dense_heads:  # sized by the first transform that fills it
                    dense.setdefault(head, torch.full((total, *values.shape[1:]), IGNORE_INDEX, dtype=torch.long))
                    dense[head][members] = values.detach().long().cpu()
                else:
                    targets[head][members] = values.detach().long().cpu()
        for head in self.dense_heads:  # no sample has a target for it in this batch
            targets[head] = dense.get(head, torch.full((total, 1, 1), IGNORE_INDEX, dtype=torch.long))
        if self.rotation_jitter is not None:
            outputs = self.rotation_jitter(outputs, [self.slots[int(s)].name for s in slot_of_sample], generator)
        return outputs, {head: t.to(device) for head, t in targets.items()}

    def decoyed_rows(
        self, learned: LearnedTransform, images: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[int, torch.Tensor]:
        """The classes of ``learned``'s head whose inputs carry its decoys, rebuilt from ``images`` with
        decoys that keep their gradient: label → ``images`` decoyed, then transformed as that class.

        Why: in the authors' LCI code the classifier's −CE reaches the inpainter through the whole
        batch, including the autoencoded decoys in the untransformed and rotated images; the batch C
        trains on is built without gradients, so these rows are what
        :meth:`~transformrec.transforms.classifier_feedback.MixedBatchFeedback.rows_loss` puts in
        place of those classes' rows.
        """
        rows: dict[int, torch.Tensor] = {}
        for slot in self.slots:
            transform = self.transforms[slot.transform_index]
            if slot.head != learned.head or transform.name not in learned.decoy_for:
                continue
            inputs = learned.make_decoys(images, generator, differentiable=True)
            variants = torch.full((images.shape[0],), slot.variant, dtype=torch.long)
            rows[slot.label], _ = transform.apply(inputs, variants, generator)
        return rows

    def __repr__(self) -> str:
        jitter = f", rotation_jitter={self.rotation_jitter!r}" if self.rotation_jitter is not None else ""
        return f"TransformSet({self.transforms}, mode={self.mode!r}, heads={self.heads}{jitter})"
