"""The networks of the damage & repair autoencoder (sec. 3.3.1, 3.3.4, figs. 3.2 and 3.5).

* Encoder E = (32)3c1-(64)2c2-(128)2c2-(256)2c2-(512)2c2 (channels scaled by ``width / 32``),
  BN and leaky-ReLU after every layer. The 2×2 stride-2 convolutions give every entry of φ(x) an
  18×18 receptive field that overlaps its neighbours by 2 pixels, so dropping an entry drops
  one image patch (fig. 3.4). ``kernel=3`` is ablation (d): 3×3 stride-2 layers, 33×33 fields.
* Decoder D = (256)3rc2-(128)3rc2-(64)3rc2-(32)3rc2-(3)3c1: bilinear ×2 resize, 3×3 convolution,
  BN, leaky-ReLU; the last layer is a plain linear 3×3 convolution to the image channels.
* Repair blocks R₁…R₅ (fig. 3.5): residual blocks whose first convolution also sees the drop
  mask, and whose output is gated by it, so that they can change dropped entries only
  (eqs. 3.1, 3.2). Distributed: R₁ before D₁ and R_{i+1} after D_i; local (ablation (c)): all five
  consecutively before D₁.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from transformrec.functional.feature_damage import upsample_mask

ENCODER_CHANNELS: tuple[int, ...] = (32, 64, 128, 256, 512)
DECODER_CHANNELS: tuple[int, ...] = (256, 128, 64, 32)
REPAIR_LAYOUTS = ("distributed", "local")
LEAK = 0.2


def _scaled(channels: tuple[int, ...], width: int) -> tuple[int, ...]:
    return tuple(max(1, c * width // 32) for c in channels)


def _conv_bn_lrelu(in_ch: int, out_ch: int, kernel: int, stride: int, padding: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, stride, padding, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.LeakyReLU(LEAK),
    )


class Encoder(nn.Module):
    """E: image (B, C, H, W) → φ(x) (B, 16·width, H/16, W/16); H and W must be multiples of 16."""

    def __init__(self, channels: int = 3, width: int = 32, kernel: int = 2) -> None:
        super().__init__()
        if kernel not in (2, 3):
            raise ValueError(f"encoder kernel must be 2 (the thesis) or 3 (ablation d), got {kernel}")
        widths = _scaled(ENCODER_CHANNELS, width)
        layers = [_conv_bn_lrelu(channels, widths[0], 3, 1, 1)]
        for in_ch, out_ch in zip(widths[:-1], widths[1:], strict=True):
            layers.append(_conv_bn_lrelu(in_ch, out_ch, kernel, 2, (kernel - 1) // 2))
        self.layers = nn.Sequential(*layers)
        self.out_channels = widths[-1]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[-1] % 16 or images.shape[-2] % 16:
            raise ValueError(f"damage & repair needs image sides divisible by 16, got {tuple(images.shape[-2:])}")
        return self.layers(images)


class ResizeConv(nn.Module):
    """One decoder layer D_i: bilinear ×2 resize, then 3×3 convolution, BN and leaky-ReLU (sec. 3.3.4)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = _conv_bn_lrelu(in_ch, out_ch, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))


class RepairBlock(nn.Module):
    """R_i (fig. 3.5): ``x + g ⊙ r([x, 1 − Ω])`` with r = conv-BN-ReLU-conv-BN and g = 1 − Ω (gating).

    ``drop`` is 1 − U(Ω) at the resolution of ``x``. With ``gating=False`` (ablation (e)) g = 1,
    so the block may alter every entry. The last BN starts at zero scale, so an untrained block
    is the identity and training starts from the plain damaged decoding.
    """

    def __init__(self, channels: int, gating: bool = True) -> None:
        super().__init__()
        self.gating = gating
        self.conv1 = nn.Conv2d(channels + 1, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        nn.init.zeros_(self.bn2.weight)

    def residual(self, x: torch.Tensor, drop: torch.Tensor) -> torch.Tensor:
        """r([x, 1 − Ω]): the ungated correction."""
        hidden = F.relu(self.bn1(self.conv1(torch.cat([x, drop.to(x.dtype)], 1))))
        return self.bn2(self.conv2(hidden))

    def forward(self, x: torch.Tensor, drop: torch.Tensor) -> torch.Tensor:
        correction = self.residual(x, drop)
        return x + (drop.to(x.dtype) * correction if self.gating else correction)


class Decoder(nn.Module):
    """D (and D̂ when repair blocks are passed to :meth:`forward`): φ → image.

    ``layers`` are D₁…D₄ (resize-convolutions) and ``out`` is D₅, the (C)3c1 output layer.
    """

    def __init__(self, channels: int = 3, width: int = 32) -> None:
        super().__init__()
        in_ch = _scaled(ENCODER_CHANNELS, width)[-1]
        widths = _scaled(DECODER_CHANNELS, width)
        self.layers = nn.ModuleList()
        for out_ch in widths:
            self.layers.append(ResizeConv(in_ch, out_ch))
            in_ch = out_ch
        self.out = nn.Conv2d(in_ch, channels, 3, padding=1)
        self.in_channels = _scaled(ENCODER_CHANNELS, width)[-1]
        self.stage_channels = (self.in_channels, *widths)  # inputs of D₁ … D₅

    def forward(
        self, features: torch.Tensor, repair: RepairNetwork | None = None, keep: torch.Tensor | None = None
    ) -> torch.Tensor:
        """D(φ) without ``repair``; D̂(φ̂) = {R₁, D₁, …, R₅, D₅} with it (eqs. 3.1, 3.2)."""
        if repair is None:
            x = features
            for layer in self.layers:
                x = layer(x)
            return self.out(x)
        if keep is None:
            raise ValueError("the repair network needs the keep mask Ω")
        drop = 1 - keep
        x = features
        stages = [*self.layers, self.out]
        if repair.layout == "local":
            for block in repair.blocks:
                x = block(x, upsample_mask(drop, x.shape[-2:]))
            for layer in stages:
                x = layer(x)
            return x
        for block, layer in zip(repair.blocks, stages, strict=True):
            x = layer(block(x, upsample_mask(drop, x.shape[-2:])))
        return x


class RepairNetwork(nn.Module):
    """R = {R₁, …, R₅}: five repair blocks, distributed across the decoder or local before D₁."""

    def __init__(self, decoder: Decoder, layout: str = "distributed", gating: bool = True) -> None:
        super().__init__()
        if layout not in REPAIR_LAYOUTS:
            raise ValueError(f"repair layout must be one of {REPAIR_LAYOUTS}, got {layout!r}")
        self.layout = layout
        widths = decoder.stage_channels if layout == "distributed" else (decoder.in_channels,) * 5
        self.blocks = nn.ModuleList([RepairBlock(c, gating) for c in widths])
