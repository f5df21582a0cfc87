"""CifarNet: the small AlexNet-style network of Zhang et al. used throughout chapter 8 (sec. 8.4).

Why this layout: sec. 8.4 follows Zhang et al. ("small Alexnet"): two blocks of 5×5
convolution (64 channels) → 3×3 max-pooling → local response normalisation, then fully
connected layers of 384 and 192 units. Sec. 8.4.1 states the network has a single dropout
layer (after fc3, as in the TF-slim CifarNet, keep probability 0.5); it is what the
``same_dropout`` switch of table 8.1 d acts on. The linear classifier is not part of the backbone.

Taps follow the library convention: the post-ReLU map of each layer, before the pooling /
normalisation / dropout that comes next.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from torch import nn

from transformrec.backbones.base import StagedBackbone
from transformrec.backbones.registry import register_backbone

CIFARNET_TAPS: tuple[str, ...] = ("conv1", "conv2", "fc3", "fc4")


def _lrn() -> nn.LocalResponseNorm:
    """TF's ``lrn(depth_radius=4, bias=1, alpha=0.001/9, beta=0.75)`` of CifarNet, in torch's convention."""
    return nn.LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1.0)


class CifarNet(StagedBackbone):
    """conv5×5(64) → pool → LRN → conv5×5(64) → LRN → pool → fc(384) → dropout → fc(192).

    Args:
        in_channels: image channels.
        image_size: side of the square input (fixes the input size of fc3).
        width: multiplies every channel and unit count (small values keep benchmarks cheap).
        dropout: drop probability of the single dropout layer (0.5 as in TF-slim CifarNet).
    """

    tap_names = CIFARNET_TAPS

    def __init__(self, *, in_channels: int = 3, image_size: int = 32, width: float = 1.0, dropout: float = 0.5):
        super().__init__()
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        conv, fc3, fc4 = (max(1, round(c * width)) for c in (64, 384, 192))
        side = math.ceil(math.ceil(image_size / 2) / 2)  # after two SAME 3×3/2 poolings
        self.feature_dim = fc4
        self.stages = nn.ModuleDict(
            OrderedDict(
                conv1=nn.Sequential(nn.Conv2d(in_channels, conv, 5, padding=2), nn.ReLU()),
                conv2=nn.Sequential(nn.MaxPool2d(3, 2, 1), _lrn(), nn.Conv2d(conv, conv, 5, padding=2), nn.ReLU()),
                fc3=nn.Sequential(
                    _lrn(), nn.MaxPool2d(3, 2, 1), nn.Flatten(1), nn.Linear(conv * side**2, fc3), nn.ReLU()
                ),
                fc4=nn.Sequential(nn.Dropout(dropout), nn.Linear(fc3, fc4), nn.ReLU()),
            )
        )


@register_backbone("cifarnet", run_inputs=("in_channels", "image_size"))
def cifarnet(*, in_channels: int = 3, image_size: int = 32, width: float = 1.0, dropout: float = 0.5) -> CifarNet:
    """The CifarNet of sec. 8.4 (Zhang et al.'s small AlexNet)."""
    return CifarNet(in_channels=in_channels, image_size=image_size, width=width, dropout=dropout)
