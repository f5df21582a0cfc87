"""Pairs of views with sync and flip targets: the mini-batches of chapter 6 (sec. 6.2.1, eq. 6.1).

Item ``i`` is an anchor frame ``(sequence, t)`` of a :class:`~transformrec.data.multiview_folder.MultiViewFolder`
under every kind of pair the TransformSet declares, as a stack ``K×2×3×H×W`` with per-head
targets (``IGNORE_INDEX`` where eq. 6.1 has no term):

- ``positive`` x_p = (x_{ν₁,t}, x_{ν₂,t}), ν₁ ≠ ν₂: sync = synchronized, flip = not_flipped;
- ``unsynchronized`` x_n = (x_{ν₁,t₁}, x_{ν₂,t₂}), d_min < |t₂ − t₁| < d_max, one of t₁, t₂ the anchor t
  (:func:`~transformrec.functional.pair_sampling.unsynchronized_times`): sync = unsynchronized, no flip target;
- ``flipped`` x_f = (x̄_{ν₁,t}, x_{ν₂,t}) or (x_{ν₁,t}, x̄_{ν₂,t}): flip = flipped, no sync target.

Frames go through the folder's background handling (sec. 6.2.2), then both frames of a pair are
mirrored together with probability 1/2 ("performed before preparing the flipped pairs", sec.
6.2.3), then one frame of a flipped pair is mirrored. Randomness is a function of
``(seed, epoch, index)``, so a resumed run replays it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset

from transformrec.data.corrupt_items import first_decodable
from transformrec.data.item_seeding import item_seed
from transformrec.data.modality import PairSampling, SyncWindow
from transformrec.data.multiview_folder import CorruptFrameError, MultiViewFolder
from transformrec.functional.pair_sampling import (
    D_MAX,
    D_MIN,
    FLIPPED,
    POSITIVE,
    UNSYNCHRONIZED,
    unsynchronized_times,
    view_pair,
)
from transformrec.functional.similarity import random_similarity
from transformrec.targets import IGNORE_INDEX


@dataclass(frozen=True)
class PairPlan:
    """Which frames make one pair and how they are mirrored."""

    kind: str
    sequence: int
    times: tuple[int, int]
    views: tuple[int, int]
    mirror_both: bool
    flipped_frame: int | None  # 0 or 1 for a flipped pair


class MultiViewPairs(Dataset):
    """Wrap a MultiViewFolder for the synchronization / flip pretext task.

    Args:
        folder: the multi-view frames.
        transform_set: a TransformSet of pair transforms (``sync`` and/or ``flip``).
        seed: base of the per-item randomness.
        hflip: mirror both frames of a pair together with probability 1/2 (sec. 6.2.3).
        stride: anchor frames every ``stride`` frames (an epoch then visits 1/stride of them).
    """

    def __init__(self, folder: MultiViewFolder, transform_set: Any, seed: int = 0, hflip: bool = True, stride: int = 1):
        # Typed by protocol (data/modality.py): the pair transforms import this module to hand it to the Trainer.
        not_pairs = [t for t in transform_set.transforms if not isinstance(t, PairSampling)]
        if not_pairs:
            raise ValueError(f"MultiViewPairs needs pair transforms (sync, flip) only, got {not_pairs}")
        if not isinstance(folder, MultiViewFolder):
            raise TypeError(f"pair transforms need a MultiViewFolder, got {type(folder).__name__}")
        self.folder, self.transform_set, self.seed, self.hflip = folder, transform_set, seed, hflip
        sync = [t for t in transform_set.transforms if isinstance(t, SyncWindow)]
        self.d_min, self.d_max = (sync[0].d_min, sync[0].d_max) if sync else (D_MIN, D_MAX)
        self.single_view = any(t.single_view for t in transform_set.transforms)
        # One pair per kind; each kind is labelled on every head whose transform declares it.
        self.kinds: list[str] = []
        self.targets: dict[str, list[int]] = {head: [] for head in transform_set.heads}
        for slot in transform_set.slots:
            kind = transform_set.transforms[slot.transform_index].pair_kind(slot.variant)
            if kind not in self.kinds:
                self.kinds.append(kind)
                for values in self.targets.values():
                    values.append(IGNORE_INDEX)
            self.targets[slot.head][self.kinds.index(kind)] = slot.label
        self.anchors = [(s, t) for s, seq in enumerate(folder.sequences) for t in range(0, seq.num_frames, stride)]
        self.epoch = 0
        self.skipped: dict[str, str] = folder.skipped

    def set_epoch(self, epoch: int) -> None:
        """New pairs every epoch; called by the Trainer before each epoch's loader is iterated."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.anchors)

    def plan(self, index: int) -> tuple[list[PairPlan], torch.Generator]:
        """The pairs of item ``index`` (one per kind) and the generator, positioned to build them."""
        generator = torch.Generator().manual_seed(item_seed(self.seed + 7919 * self.epoch, "train", index))
        sequence, anchor = self.anchors[index]
        seq = self.folder.sequences[sequence]
        plans = []
        for kind in self.kinds:
            views = self.draw_views(seq.num_views, generator)
            times = (anchor, anchor)
            if kind == UNSYNCHRONIZED:
                times = unsynchronized_times(anchor, seq.num_frames, self.d_min, self.d_max, generator)
            mirror_both = self.hflip and bool(torch.rand(1, generator=generator) < 0.5)
            flipped = int(torch.randint(2, (1,), generator=generator)) if kind == FLIPPED else None
            plans.append(PairPlan(kind, sequence, times, views, mirror_both, flipped))
        return plans, generator

    def draw_views(self, num_views: int, generator: torch.Generator) -> tuple[int, int]:
        """The cameras of one pair: two different ones, or one camera twice for ablation (l)."""
        if self.single_view:
            view = int(torch.randint(num_views, (1,), generator=generator))
            return view, view
        return view_pair(num_views, generator)

    def build(self, plan: PairPlan, generator: torch.Generator | None = None) -> torch.Tensor:
        """The two frames of ``plan``, ``2×3×H×W``: background handling, joint mirror, then the flip."""
        frames = torch.stack(
            [self.folder.frame(plan.sequence, v, t, generator) for v, t in zip(plan.views, plan.times, strict=True)]
        )
        if self.single_view:  # ablation (l): two augmentations stand in for two views
            frames = random_similarity(frames, generator)
        if plan.mirror_both:
            frames = frames.flip(-1)
        if plan.flipped_frame is not None:
            frames[plan.flipped_frame] = frames[plan.flipped_frame].flip(-1)
        return frames

    def _item(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        plans, generator = self.plan(index)
        pairs = torch.stack([self.build(plan, generator) for plan in plans])
        return pairs, {head: torch.tensor(values) for head, values in self.targets.items()}

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        names = self.anchors.__getitem__
        return first_decodable(index, len(self.anchors), self._item, CorruptFrameError, self.skipped, names, "frame")


__all__ = ["FLIPPED", "POSITIVE", "UNSYNCHRONIZED", "MultiViewPairs", "PairPlan"]
