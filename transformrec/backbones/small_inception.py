"""The small Inception network of Zhang et al. for 32 px images (sec. 8.4, figures 8.2 and 8.4).

Why this layout: sec. 8.4 uses the "small Inception architecture adapted to the smaller image
sizes of CIFAR" from Zhang et al.: a 3×3 convolution with 96 channels, then Inception modules
(a 1×1 and a 3×3 branch, concatenated) and Downsample modules (a stride-2 3×3 convolution next
to a stride-2 max-pooling), every convolution followed by batch norm and ReLU, and global
average pooling. Sec. 8.4.1 states the network has a single dropout layer; it sits after the
pooling, before the classifier that the caller adds.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from transformrec.backbones.base import StagedBackbone
from transformrec.backbones.registry import register_backbone

SMALL_INCEPTION_TAPS: tuple[str, ...] = ("conv1", "stage1", "stage2", "stage3", "pool")


def _conv(in_channels: int, out_channels: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """Conv → BN → ReLU (Zhang et al.'s "Conv module")."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    )


class InceptionModule(nn.Module):
    """1×1 branch (``ch1`` channels) and 3×3 branch (``ch3``) on the same input, concatenated."""

    def __init__(self, in_channels: int, ch1: int, ch3: int) -> None:
        super().__init__()
        self.branch1, self.branch3 = _conv(in_channels, ch1, 1), _conv(in_channels, ch3, 3)
        self.out_channels = ch1 + ch3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch3(x)], 1)


class DownsampleModule(nn.Module):
    """Stride-2 3×3 convolution (``ch3`` channels) next to stride-2 3×3 max-pooling, concatenated."""

    def __init__(self, in_channels: int, ch3: int) -> None:
        super().__init__()
        self.conv, self.pool = _conv(in_channels, ch3, 3, stride=2), nn.MaxPool2d(3, 2, padding=1)
        self.out_channels = ch3 + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.conv(x), self.pool(x)], 1)


# Zhang et al., appendix: ("i", ch1, ch3) is an Inception module, ("d", ch3) a Downsample module.
_STAGES = (
    (("i", 32, 32), ("i", 32, 48), ("d", 80)),
    (("i", 112, 48), ("i", 96, 64), ("i", 80, 80), ("i", 48, 96), ("d", 96)),
    (("i", 176, 160), ("i", 176, 160)),
)


class SmallInception(StagedBackbone):
    """Zhang et al.'s small Inception; ``feature_dim`` is the pooled channel count (336 at width 1).

    Args:
        in_channels: image channels.
        width: multiplies every channel count.
        dropout: drop probability of the single dropout layer after global pooling.
    """

    tap_names = SMALL_INCEPTION_TAPS

    def __init__(self, *, in_channels: int = 3, width: float = 1.0, dropout: float = 0.5) -> None:
        super().__init__()
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")

        def scale(c: int) -> int:
            return max(1, round(c * width))

        stages: OrderedDict[str, nn.Module] = OrderedDict(conv1=_conv(in_channels, scale(96), 3))
        channels = scale(96)
        for index, spec in enumerate(_STAGES):
            modules: list[nn.Module] = []
            for kind, *sizes in spec:
                module = (
                    InceptionModule(channels, scale(sizes[0]), scale(sizes[1]))
                    if kind == "i"
                    else DownsampleModule(channels, scale(sizes[0]))
                )
                modules.append(module)
                channels = module.out_channels
            stages[f"stage{index + 1}"] = nn.Sequential(*modules)
        stages["pool"] = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Dropout(dropout))
        self.stages = nn.ModuleDict(stages)
        self.feature_dim = channels


@register_backbone("small_inception", run_inputs=("in_channels",))
def small_inception(*, in_channels: int = 3, width: float = 1.0, dropout: float = 0.5) -> SmallInception:
    """The small Inception of sec. 8.4 (Zhang et al.)."""
    return SmallInception(in_channels=in_channels, width=width, dropout=dropout)
