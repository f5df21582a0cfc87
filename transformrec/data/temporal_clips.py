"""Every video under every temporal transformation: the mini-batches of sec. 5.2.3.

Item ``i`` is video ``i`` under each class of the TransformSet (speed at a κ drawn uniformly
and limited to what the video allows, random, periodic at the same κ, warp), as a stack of
clips ``K×3×T×H×W`` with per-head targets, so a batch of B videos holds B·K clips in which
every video appears under all transform types. The union of all frames the K clips need is
decoded in one pass. Randomness is a function of ``(seed, epoch, index)``: the same in every
DataLoader worker and every ``torchrun`` rank, and replayed exactly on resume.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from transformrec.data.corrupt_items import first_decodable
from transformrec.data.item_seeding import item_seed
from transformrec.data.modality import SpeedRange
from transformrec.data.video_io import CorruptVideoError
from transformrec.functional.crop_flip import crop_and_flip
from transformrec.targets import IGNORE_INDEX


class TemporalClips(Dataset):
    """Wrap a :class:`~transformrec.data.video_folder.VideoFolder` for temporal-transformation pretraining.

    Args:
        videos: the video data set (its ``clip`` and ``num_frames`` are used).
        transform_set: a TransformSet of temporal transforms (``modality == "video-indices"``).
        seed: base of the per-item randomness.
        crop_padding: random spatial crop after reflect-padding by this many pixels, the same for
            all frames of a clip (0: none).
        hflip: random horizontal flip of whole clips (sec. 5.2.3).
    """

    def __init__(self, videos: Any, transform_set: Any, seed: int = 0, crop_padding: int = 0, hflip: bool = True):
        not_temporal = [t for t in transform_set.transforms if t.modality != "video-indices"]
        if not_temporal:
            raise ValueError(f"TemporalClips needs temporal transforms only, got {not_temporal}")
        self.videos, self.transform_set, self.seed = videos, transform_set, seed
        self.crop_padding, self.hflip = crop_padding, hflip
        self.speeds = next((t.speeds for t in transform_set.transforms if isinstance(t, SpeedRange)), (0,))
        self.epoch = 0
        self.skipped: dict[str, str] = {}

    def set_epoch(self, epoch: int) -> None:
        """New clips every epoch; called by the Trainer before each epoch's loader is iterated."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.videos)

    def _item(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        generator = torch.Generator().manual_seed(item_seed(self.seed + 7919 * self.epoch, "train", index))
        num_frames = self.videos.num_frames[index]
        kappa = int(torch.randint(len(self.speeds), (1,), generator=generator))
        plans = []
        targets = {head: [] for head in self.transform_set.heads}
        for slot in self.transform_set.slots:
            transform = self.transform_set.transforms[slot.transform_index]
            indices, extra = transform.sample_indices(num_frames, kappa, generator)
            plans.append(indices)
            for head in targets:
                value = slot.label if head == slot.head else extra.get(head, IGNORE_INDEX)
                targets[head].append(value)
        clips = self._augment(self.videos.clips(index, plans), generator)  # K×3×T×H×W
        return clips, {head: torch.tensor(values) for head, values in targets.items()}

    def _augment(self, clips: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        count, channels, length, height, width = clips.shape
        if self.crop_padding == 0 and not self.hflip:
            return clips
        span = 2 * self.crop_padding + 1
        top = torch.randint(span, (count,), generator=generator)
        left = torch.randint(span, (count,), generator=generator)
        flip = torch.rand(count, generator=generator) < 0.5 if self.hflip else torch.zeros(count, dtype=torch.bool)
        # Frames of a clip share its crop and flip: fold time into channels, crop, unfold.
        folded = clips.reshape(count, channels * length, height, width)
        return crop_and_flip(folded, top, left, flip, self.crop_padding).reshape(clips.shape)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        names = self.videos.files.__getitem__
        return first_decodable(index, len(self.videos), self._item, CorruptVideoError, self.skipped, names, "video")
