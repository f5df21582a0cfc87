"""The temporal transformations of chapter 5 as index samplers: speed, random, periodic, warp.

They choose *which frames* make a clip, before anything is decoded (sec. 5.2.1), so they do not
map a batch of tensors like the image transforms: :class:`~transformrec.data.temporal_clips.TemporalClips`
calls :meth:`TemporalTransform.sample_indices` for every video and decodes only those frames.
All four contribute to the head ``motion``; speed also labels the head ``speed`` with the κ it
used (eq. 5.1: the speed loss is only on speed clips). κ is drawn once per video and shared by
speed and periodic; random and warp use κ = 0 (sec. 5.2.1).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from transformrec.data.temporal_clips import TemporalClips
from transformrec.functional.frame_samplers import (
    CLIP_LENGTH,
    MAX_WARP_SKIP,
    SPEEDS,
    sample_periodic,
    sample_random,
    sample_speed,
    sample_warp,
)
from transformrec.transforms.base import PreDecodingTransform
from transformrec.transforms.registry import register_transform


class TemporalTransform(PreDecodingTransform):
    """A transform of the time axis: samples frame indices for a video of ``num_frames`` frames."""

    modality = "video-indices"
    data_kind = "a video data set (a VideoFolder)"
    head = "motion"

    def __init__(self, clip_length: int = CLIP_LENGTH) -> None:
        self.clip_length = clip_length

    def sample_indices(
        self, num_frames: int, kappa: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, int]]:
        """Frame indices of one clip, and targets for extra heads (e.g. ``{"speed": κ}``)."""
        raise NotImplementedError

    def adapt_data(self, data: Dataset, transform_set: Any, *, seed: int, augment: Any) -> Dataset:
        """Frames are picked before decoding (sec. 5.2.1): a VideoFolder becomes TemporalClips.

        ``augment`` crops and flips whole clips inside the data set; a data set that already is a
        TemporalClips is used as it is.
        """
        if isinstance(data, TemporalClips):
            return data
        return TemporalClips(
            data,
            transform_set,
            seed=seed,
            crop_padding=augment.padding if augment is not None else 0,
            hflip=augment.hflip if augment is not None else False,
        )


@register_transform("speed")
class Speed(TemporalTransform):
    """τ = 0: every 2^κ-th frame. Adds the ``speed`` head (κ ∈ ``speeds``) unless ``speed_loss`` is off.

    ``speed_loss=False`` is the "speed loss: NO" column of table 5.1.
    """

    def __init__(self, speeds: tuple[int, ...] | list[int] = SPEEDS, speed_loss: bool = True, clip_length: int = 16):
        super().__init__(clip_length)
        if not speeds or sorted(speeds) != list(range(len(speeds))):
            raise ValueError(f"speeds must be 0, 1, …, K-1, got {list(speeds)}")
        self.speeds, self.speed_loss = tuple(speeds), speed_loss

    def variant_names(self) -> tuple[str, ...]:
        return ("speed",)

    def extra_heads(self) -> dict[str, tuple[str, ...]]:
        return {"speed": tuple(f"speed{k}" for k in self.speeds)} if self.speed_loss else {}

    def sample_indices(self, num_frames, kappa, generator=None):
        indices, used = sample_speed(num_frames, kappa, generator, self.clip_length)
        return indices, ({"speed": used} if self.speed_loss else {})

    def __repr__(self) -> str:
        return f"Speed(speeds={self.speeds}, speed_loss={self.speed_loss})"


@register_transform("random_order")
class RandomOrder(TemporalTransform):
    """τ = 1: a random permutation of consecutive frames (κ = 0), as in Shuffle & Learn [79]."""

    def variant_names(self) -> tuple[str, ...]:
        return ("random",)

    def sample_indices(self, num_frames, kappa, generator=None):
        return sample_random(num_frames, generator, self.clip_length), {}


@register_transform("periodic")
class Periodic(TemporalTransform):
    """τ = 2: forward to a random switch point, then backward, at the video's speed κ."""

    def variant_names(self) -> tuple[str, ...]:
        return ("periodic",)

    def sample_indices(self, num_frames, kappa, generator=None):
        return sample_periodic(num_frames, kappa, generator, self.clip_length)[0], {}


@register_transform("temporal_warp")
class TemporalWarp(TemporalTransform):
    """τ = 3: ordered frames with independent skips in {0, …, ``max_skip``} (κ = 0)."""

    def __init__(self, max_skip: int = MAX_WARP_SKIP, clip_length: int = CLIP_LENGTH) -> None:
        super().__init__(clip_length)
        self.max_skip = max_skip

    def variant_names(self) -> tuple[str, ...]:
        return ("warp",)

    def sample_indices(self, num_frames, kappa, generator=None):
        return sample_warp(num_frames, generator, self.clip_length, self.max_skip), {}
