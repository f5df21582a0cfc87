"""3D-CNN backbones of chapter 5 with taps: C3D-small, R3D-18 and R(2+1)D-18.

Inputs are clips ``B×3×T×H×W``. The torchvision video ResNets keep their own submodule names
(``stem``, ``layer1`` … ``layer4``) so their ``state_dict`` loads into
``torchvision.models.video.r3d_18()`` / ``r2plus1d_18()`` without ``fc``; weights are never
downloaded. C3D-small follows the "smaller variant of C3D" the thesis uses (sec. 5.2.3, after
[89]): five 3×3×3 convolution blocks with BatchNorm, the first pooling only in space so early
layers keep the temporal resolution the motion task needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torchvision
from torch import nn

from transformrec.backbones.base import TappedBackbone
from transformrec.backbones.registry import register_backbone
from transformrec.functional.lean_conv_block import conv_bn_relu_pool


class ConvBlock(nn.Sequential):
    """Conv3d → BatchNorm3d → ReLU (→ MaxPool3d), trained through :func:`conv_bn_relu_pool`.

    Why: as four autograd modules the block keeps its convolution's output, its ReLU's output and
    the pool's int64 indices for the backward pass; in C3D-small's first block at 16×112×112 that
    is most of a chapter 5 step's memory. In training (plain BatchNorm3d, no autocast) the block
    runs as one function that keeps far less for the same gradients; in evaluation, under
    SyncBatchNorm or AMP, or with ``lean=False``, it runs its modules as they are. ``recompute``:
    recompute the convolution in the backward pass instead of keeping its output (the first block,
    whose output is the largest; one more convolution per step, about 5 % of a chapter 5 step). The
    submodules keep their names (``0``, ``1``, ``3``), so state dicts are the plain
    ``nn.Sequential``'s.
    """

    def __init__(
        self, in_ch: int, out_ch: int, pool: tuple[int, int, int] | None, recompute: bool = False, lean: bool = True
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv3d(in_ch, out_ch, 3, padding=1, bias=False),
            nn.BatchNorm3d(out_ch),
            nn.ReLU(inplace=True),
        ]
        if pool is not None:
            layers.append(nn.MaxPool3d(pool, stride=pool))
        super().__init__(*layers)
        self.pool, self.recompute, self.lean = pool, recompute, lean

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lean = (
            self.lean
            and self.training
            and torch.is_grad_enabled()
            and type(self[1]) is nn.BatchNorm3d
            and not torch.is_autocast_enabled(x.device.type)
        )
        if not lean:
            return super().forward(x)
        return conv_bn_relu_pool(x, self[0], self[1], self.pool, recompute=self.recompute)


class StagedVideoBackbone(TappedBackbone):
    """Stages run in ``tap_names`` order, each a child module of that name; the last tap ``pool``
    is the global spatio-temporal average of the last stage."""

    def forward_taps(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        self.check_taps(taps)
        wanted, out = set(taps), {}
        for name in self.tap_names[:-1]:
            x = getattr(self, name)(x)
            if name in wanted:
                out[name] = x
            if len(out) == len(wanted):
                return out
        out["pool"] = x.mean(dim=(2, 3, 4))
        return out


class C3DSmall(StagedVideoBackbone):
    """C3D-small: conv1 (pool 1×2×2), conv2 … conv4 (pool 2×2×2), conv5, global average pool.

    ``width`` scales the channels (64, 128, 256, 256, 256). Taps ``conv1`` … ``conv5`` (feature
    maps ``B×C×T×H×W``) and ``pool`` (``B×C``), which feeds the motion and speed heads.
    ``lean_blocks``: train each block through :class:`ConvBlock`'s memory-lean function (same
    gradients; ``False`` runs the plain modules, e.g. to compare memory).
    """

    tap_names = ("conv1", "conv2", "conv3", "conv4", "conv5", "pool")

    def __init__(self, in_channels: int = 3, width: float = 1.0, lean_blocks: bool = True) -> None:
        super().__init__()
        widths = [max(8, round(c * width)) for c in (64, 128, 256, 256, 256)]
        pools = [(1, 2, 2), (2, 2, 2), (2, 2, 2), (2, 2, 2), None]
        channels = [in_channels, *widths]
        for index, pool in enumerate(pools):
            block = ConvBlock(channels[index], channels[index + 1], pool, recompute=index == 0, lean=lean_blocks)
            self.add_module(f"conv{index + 1}", block)
        self.feature_dim = widths[-1]


class TorchvisionVideoResNet(StagedVideoBackbone):
    """R3D-18 or R(2+1)D-18 from torchvision without ``fc``; taps ``stem``, ``layer1`` … ``layer4``, ``pool``."""

    tap_names = ("stem", "layer1", "layer2", "layer3", "layer4", "pool")
    feature_dim = 512

    def __init__(self, arch: str = "r3d_18") -> None:
        super().__init__()
        constructors = {"r3d_18": torchvision.models.video.r3d_18, "r2plus1d_18": torchvision.models.video.r2plus1d_18}
        if arch not in constructors:
            raise ValueError(f"unknown video ResNet {arch!r}; known: {sorted(constructors)}")
        net = constructors[arch](weights=None)
        self.arch = arch
        self.stem, self.layer1, self.layer2, self.layer3, self.layer4 = (
            net.stem,
            net.layer1,
            net.layer2,
            net.layer3,
            net.layer4,
        )


@register_backbone("c3d_small", run_inputs=("in_channels",))
def c3d_small(in_channels: int = 3, width: float = 1.0, lean_blocks: bool = True) -> C3DSmall:
    """C3D-small, the default 3D-CNN of chapter 5 (tables 5.1, 5.3); ``lean_blocks`` as in :class:`C3DSmall`."""
    return C3DSmall(in_channels=in_channels, width=width, lean_blocks=lean_blocks)


@register_backbone("r3d_18")
def r3d_18() -> TorchvisionVideoResNet:
    """3D-ResNet18 (torchvision ``r3d_18``), tables 5.2 and 5.4."""
    return TorchvisionVideoResNet("r3d_18")


@register_backbone("r2plus1d_18")
def r2plus1d_18() -> TorchvisionVideoResNet:
    """R(2+1)D-18 (torchvision ``r2plus1d_18``), table 5.2."""
    return TorchvisionVideoResNet("r2plus1d_18")
