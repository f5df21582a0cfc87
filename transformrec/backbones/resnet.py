"""Torchvision ResNets as tapped backbones.

Why: the thesis uses AlexNet for comparability (section 4.4), but later work (and any user
wanting to transfer features to modern pipelines) trains ResNets. This wrapper keeps
torchvision's own submodule names (``conv1``, ``bn1``, ``layer1`` … ``layer4``) as direct
children, so our ``state_dict`` *is* a torchvision ``state_dict`` without ``fc`` and export
(:mod:`transformrec.backbones.export`) is only a key filter. Weights are never downloaded.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torchvision
from torch import nn

from transformrec.backbones.base import StagedBackbone
from transformrec.backbones.registry import register_backbone

# Architecture name → (torchvision constructor, width of the pooled feature).
RESNET_ARCHS: dict[str, tuple[Callable[..., torchvision.models.ResNet], int]] = {
    "resnet18": (torchvision.models.resnet18, 512),
    "resnet34": (torchvision.models.resnet34, 512),
    "resnet50": (torchvision.models.resnet50, 2048),
}
RESNET_TAPS: tuple[str, ...] = ("stem", "layer1", "layer2", "layer3", "layer4", "pool")


class TorchvisionResNet(StagedBackbone):
    """A torchvision ResNet without its classifier, exposing every stage as a tap.

    Args:
        arch: one of :data:`RESNET_ARCHS`.
        in_channels: image channels; anything but 3 replaces conv1 (same 7×7/2 geometry).
        low_resolution: CIFAR-style stem (conv1 3×3 stride 1, no max-pool) so that 32-64 px
            inputs keep enough spatial resolution for layer4.

    Taps: ``stem`` (after conv1/bn1/relu/maxpool), ``layer1`` … ``layer4`` (feature maps) and
    ``pool`` (global average pool, ``B×C``); ``feature_dim`` is 512 or 2048.
    """

    tap_names = RESNET_TAPS

    def __init__(self, arch: str = "resnet18", *, in_channels: int = 3, low_resolution: bool = False) -> None:
        super().__init__()
        if arch not in RESNET_ARCHS:
            raise ValueError(f"unknown ResNet arch {arch!r}; known: {sorted(RESNET_ARCHS)}")
        constructor, feature_dim = RESNET_ARCHS[arch]
        net = constructor(weights=None)
        self.arch = arch
        self.in_channels = in_channels
        self.low_resolution = low_resolution
        self.feature_dim = feature_dim
        stem_width = net.conv1.out_channels
        if low_resolution:
            net.conv1 = nn.Conv2d(in_channels, stem_width, kernel_size=3, stride=1, padding=1, bias=False)
            net.maxpool = nn.Identity()
        elif in_channels != 3:
            net.conv1 = nn.Conv2d(in_channels, stem_width, kernel_size=7, stride=2, padding=3, bias=False)
        if low_resolution or in_channels != 3:
            nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")  # torchvision's init
        # Adopt torchvision's children under their own names; ``fc`` is left out (heads live in the trainer).
        self.conv1 = net.conv1
        self.bn1 = net.bn1
        self.relu = net.relu
        self.maxpool = net.maxpool
        self.layer1 = net.layer1
        self.layer2 = net.layer2
        self.layer3 = net.layer3
        self.layer4 = net.layer4
        self.avgpool = net.avgpool

    @property
    def has_modified_stem(self) -> bool:
        """True when conv1/maxpool differ from torchvision's, so its stock model cannot take our weights."""
        return self.low_resolution or self.in_channels != 3

    def run_stage(self, name: str, x: torch.Tensor) -> torch.Tensor:
        if name == "stem":
            return self.maxpool(self.relu(self.bn1(self.conv1(x))))
        if name == "pool":
            return torch.flatten(self.avgpool(x), 1)
        return getattr(self, name)(x)


@register_backbone("resnet18", run_inputs=("in_channels",))
def resnet18(*, in_channels: int = 3, low_resolution: bool = False) -> TorchvisionResNet:
    """ResNet-18 backbone (512-d features)."""
    return TorchvisionResNet("resnet18", in_channels=in_channels, low_resolution=low_resolution)


@register_backbone("resnet34", run_inputs=("in_channels",))
def resnet34(*, in_channels: int = 3, low_resolution: bool = False) -> TorchvisionResNet:
    """ResNet-34 backbone (512-d features)."""
    return TorchvisionResNet("resnet34", in_channels=in_channels, low_resolution=low_resolution)


@register_backbone("resnet50", run_inputs=("in_channels",))
def resnet50(*, in_channels: int = 3, low_resolution: bool = False) -> TorchvisionResNet:
    """ResNet-50 backbone (2048-d features)."""
    return TorchvisionResNet("resnet50", in_channels=in_channels, low_resolution=low_resolution)
