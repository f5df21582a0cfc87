"""The modality protocol: what a data-set adapter and its pre-decoding transforms provide.

Images are transformed after decoding, in batches. Other modalities choose *which* frames or views
to decode first (the temporal samplers of ch. 5, the view pairs of ch. 6), so their transforms
work through an adapter data set that yields ready samples with their targets. The three parties
and what each provides:

1. **A pre-decoding transform** (:class:`~transformrec.transforms.base.PreDecodingTransform`) has
   ``adapt_data(data, transform_set, *, seed, augment)`` that returns the adapter (or the data
   set unchanged when it already is one). The Trainer calls it once, through
   ``TransformSet.data_path``; the Trainer never names a modality.
2. **The adapter data set** (:class:`AdaptedData`) yields ``(samples, targets)`` per item:
   ``samples`` stacks the item under every class of the TransformSet (``K×…``) and ``targets``
   maps each head to ``K`` labels (``IGNORE_INDEX`` where a head has no term). ``set_epoch`` is
   called before each epoch, so its random draws are a function of (seed, epoch, index) and a
   resumed run replays them.
3. **The transforms' sampling parameters**, read by their adapter through the protocols below
   instead of probing attribute names: :class:`PairSampling` (ch. 6: which kind of pair a class
   is, one camera or two), :class:`SyncWindow` (the gap range of unsynchronized pairs) and
   :class:`SpeedRange` (ch. 5: the playback speeds).

The toy modality of ``tests/training/test_trainer_modality.py`` (frames in order vs reversed) is
the smallest complete example: an adapter with ``__getitem__`` returning a ``2×…`` stack and a
``{"order": [0, 1]}`` target dict, and a transform whose ``adapt_data`` wraps the images in it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class AdaptedData(Protocol):
    """An adapter data set: items ``(K×… samples, {head: K targets})``, new draws every epoch."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...

    def set_epoch(self, epoch: int) -> None: ...


@runtime_checkable
class PairSampling(Protocol):
    """A ch. 6 pair transform: which kind of pair (``positive``, ``unsynchronized``, ``flipped``)
    each of its classes is, and whether both frames come from one camera (ablation (l))."""

    single_view: bool

    def pair_kind(self, variant: int) -> str: ...


@runtime_checkable
class SyncWindow(Protocol):
    """Unsynchronized pairs are d_min < |t₂ − t₁| < d_max frames apart (sec. 6.2.1)."""

    d_min: int
    d_max: int


@runtime_checkable
class SpeedRange(Protocol):
    """A ch. 5 transform that plays clips at the speeds κ ∈ ``speeds`` (every 2^κ-th frame)."""

    speeds: tuple[int, ...]
