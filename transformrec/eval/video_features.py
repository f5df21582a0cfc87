"""Frozen clip features of whole videos, the input of every chapter-5 transfer protocol.

Why: action classification with frozen convolutional layers (table 5.1), the temporal tasks of
table 5.3 and retrieval (table 5.4) all classify or compare *videos* from features of several
clips. A video is summarised by ``clips_per_video`` speed-κ clips whose starts are spread evenly
over its length (the thesis averages predictions "over all center-cropped sub-sequences").
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias

from transformrec.backbones.base import TappedBackbone
from transformrec.functional.frame_samplers import max_speed, speed_indices, speed_span


def spread_clip_indices(num_frames: int, count: int, speed: int, length: int = 16) -> list[torch.Tensor]:
    """``count`` speed-κ clips with evenly spread starts (κ limited by the video's length)."""
    kappa = min(speed, max_speed(num_frames, length))
    last_start = num_frames - speed_span(kappa, length)
    starts = [last_start // 2] if count == 1 else [round(i * last_start / (count - 1)) for i in range(count)]
    return [speed_indices(kappa, start, length) for start in starts]


def pool_clip_map(fmap: torch.Tensor, grid: Sequence[int] = (1, 1, 1)) -> torch.Tensor:
    """A ``B×C×T×H×W`` tap average-pooled to ``grid`` and flattened; ``B×D`` taps pass through."""
    if fmap.dim() == 2:
        return fmap
    size = tuple(min(g, s) for g, s in zip(grid, fmap.shape[2:], strict=True))
    return F.adaptive_avg_pool3d(fmap, size).flatten(1)


@torch.no_grad()
def video_clip_features(
    backbone: TappedBackbone,
    videos,
    tap: str = "pool",
    clips_per_video: int = 5,
    speed: int = 2,
    grid: Sequence[int] = (1, 1, 1),
    batch_size: int = 16,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """Features ``N × clips_per_video × D`` of every video in a VideoFolder, backbone in eval mode."""
    backbone = backbone.to(device)
    was_training = backbone.training
    backbone.eval()
    backbone.check_taps([tap])
    per_video = []
    pending: list[torch.Tensor] = []

    def flush() -> None:
        if pending:
            batch = torch.stack(pending).to(device)
            per_video.append(pool_clip_map(backbone.forward_taps(batch, [tap])[tap], grid).float().cpu())
            pending.clear()

    for index in range(len(videos)):
        plans = spread_clip_indices(videos.num_frames[index], clips_per_video, speed, videos.clip_length)
        for clip in videos.clips(index, plans):
            pending.append(clip)
            if len(pending) == batch_size:
                flush()
    flush()
    backbone.train(was_training)
    return torch.cat(per_video).view(len(videos), clips_per_video, -1)
