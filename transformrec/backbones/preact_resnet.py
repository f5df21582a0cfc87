"""PreAct ResNet-18 for 32 px images (table 8.3, the architecture of Zhang et al.'s mixup).

Why: table 8.3 compares label-noise methods on "PreAct ResNet-18", the pre-activation ResNet
of He et al. (identity mappings: BN → ReLU → conv inside each block) with a 3×3 stem and no
initial pooling, four stages of two basic blocks (64, 128, 256, 512 channels), a final
BN → ReLU and global average pooling.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch import nn

from transformrec.backbones.base import StagedBackbone
from transformrec.backbones.registry import register_backbone

PREACT_TAPS: tuple[str, ...] = ("stem", "layer1", "layer2", "layer3", "layer4", "pool")


class PreActBlock(nn.Module):
    """BN → ReLU → conv3×3 → BN → ReLU → conv3×3, plus the (projected when shapes change) input."""

    def __init__(self, in_channels: int, channels: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.shortcut = (
            nn.Conv2d(in_channels, channels, 1, stride, bias=False) if stride != 1 or in_channels != channels else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet18(StagedBackbone):
    """PreAct ResNet-18; ``width`` multiplies the channel counts (64·width … 512·width)."""

    tap_names = PREACT_TAPS

    def __init__(self, *, in_channels: int = 3, width: float = 1.0) -> None:
        super().__init__()
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        widths = [max(1, round(c * width)) for c in (64, 128, 256, 512)]
        stages: OrderedDict[str, nn.Module] = OrderedDict(stem=nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False))
        previous = widths[0]
        for index, channels in enumerate(widths):
            stride = 1 if index == 0 else 2
            stages[f"layer{index + 1}"] = nn.Sequential(
                PreActBlock(previous, channels, stride), PreActBlock(channels, channels, 1)
            )
            previous = channels
        stages["pool"] = nn.Sequential(nn.BatchNorm2d(previous), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
        self.stages = nn.ModuleDict(stages)
        self.feature_dim = previous


@register_backbone("preact_resnet18", run_inputs=("in_channels",))
def preact_resnet18(*, in_channels: int = 3, width: float = 1.0) -> PreActResNet18:
    """PreAct ResNet-18 of table 8.3."""
    return PreActResNet18(in_channels=in_channels, width=width)
