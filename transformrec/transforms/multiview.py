"""The pair "transformations" of chapter 6: synchronization and flipping of two views (sec. 6.2.1).

Like the temporal transforms of chapter 5 these are index samplers: they decide which frames
of which cameras form a pair before anything is decoded, so
:class:`~transformrec.data.multiview_pairs.MultiViewPairs` does the work (:meth:`PairTransform.adapt_data`
wraps a :class:`~transformrec.data.multiview_folder.MultiViewFolder` in it). Two heads, each binary:

- ``sync`` (transform ``sync``): ``synchronized`` — two views at the same time t — vs
  ``unsynchronized`` — two views at t₁, t₂ with d_min < |t₂ − t₁| < d_max (4 and 128).
- ``flip`` (transform ``flip``): ``not_flipped`` — a synchronized pair — vs ``flipped`` — a
  synchronized pair with one of the two frames mirrored.

Both heads' first class is the same kind of pair (synchronized, not flipped: x_p of eq. 6.1),
so the pair data set builds it once and labels it on both heads; the unsynchronized pair has no
flip target and the flipped pair no sync target (IGNORE_INDEX). The Trainer's summed
cross-entropy over the two heads is then eq. 6.1 divided by the number of pairs per head (a
2-way softmax is a sigmoid of the logit difference).

``single_view=True`` is the ablation (l) of table 6.1: both frames come from the *same* camera
and a synchronized pair is one frame under two random augmentations (crop, scale, rotation).
"""

from __future__ import annotations

from typing import Any

from torch.utils.data import Dataset

from transformrec.data.multiview_pairs import MultiViewPairs
from transformrec.functional.pair_sampling import D_MAX, D_MIN, FLIPPED, POSITIVE, UNSYNCHRONIZED
from transformrec.transforms.base import PreDecodingTransform
from transformrec.transforms.registry import register_transform

__all__ = ["FLIPPED", "POSITIVE", "UNSYNCHRONIZED", "Flip", "PairTransform", "Synchronization"]


class PairTransform(PreDecodingTransform):
    """A transform of a pair of views; :meth:`pair_kind` says which pair each of its classes is."""

    modality = "pair"
    data_kind = "a multi-view data set (a MultiViewFolder)"

    def __init__(self, single_view: bool = False) -> None:
        self.single_view = single_view

    def pair_kind(self, variant: int) -> str:
        """The kind of pair (``positive``, ``unsynchronized``, ``flipped``) variant ``variant`` is."""
        raise NotImplementedError

    def adapt_data(self, data: Dataset, transform_set: Any, *, seed: int, augment: Any) -> Dataset:
        """Pairs of views are chosen before decoding (sec. 6.2.1): a MultiViewFolder becomes MultiViewPairs.

        ``augment.hflip`` mirrors both frames of a pair together (sec. 6.2.3); a data set that
        already is a MultiViewPairs is used as it is.
        """
        if isinstance(data, MultiViewPairs):
            return data
        return MultiViewPairs(data, transform_set, seed=seed, hflip=augment.hflip if augment is not None else False)


@register_transform("sync")
class Synchronization(PairTransform):
    """Head ``sync``: synchronized vs unsynchronized views, d_min < |t₂ − t₁| < d_max, uniform (sec. 6.2.1)."""

    head = "sync"

    def __init__(self, d_min: int = D_MIN, d_max: int = D_MAX, single_view: bool = False) -> None:
        super().__init__(single_view)
        if not 0 <= d_min < d_max - 1:
            raise ValueError(f"need 0 <= d_min < d_max - 1 so some gap fits strictly between; got {d_min}, {d_max}")
        self.d_min, self.d_max = d_min, d_max

    def variant_names(self) -> tuple[str, ...]:
        return ("synchronized", "unsynchronized")

    def pair_kind(self, variant: int) -> str:
        return (POSITIVE, UNSYNCHRONIZED)[variant]

    def __repr__(self) -> str:
        return f"Synchronization(d_min={self.d_min}, d_max={self.d_max}, single_view={self.single_view})"


@register_transform("flip")
class Flip(PairTransform):
    """Head ``flip``: a synchronized pair as it is vs with one frame (either, at random) mirrored."""

    head = "flip"

    def variant_names(self) -> tuple[str, ...]:
        return ("not_flipped", "flipped")

    def pair_kind(self, variant: int) -> str:
        return (POSITIVE, FLIPPED)[variant]

    def __repr__(self) -> str:
        return f"Flip(single_view={self.single_view})"
