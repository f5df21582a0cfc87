"""The two networks of Limited Context Inpainting (sec. 4.2.1): the inpainter F and the patch discriminator D.

F is an encoder-decoder that sees a patch whose centre is noise and must fill it from the thin
border alone; dilated convolutions in the bottleneck let the border information reach the
centre. D scores local receptive fields of a patch (a map of logits), which is what makes the
inpainted texture match *local* image statistics. Both are fully convolutional, so any patch
side works. Spectral normalisation in D is the usual companion of the hinge loss [140].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def _conv_bn_act(in_ch: int, out_ch: int, kernel: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    padding = dilation * (kernel - 1) // 2
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, stride, padding, dilation=dilation, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.LeakyReLU(0.2, inplace=True),
    )


class Inpainter(nn.Module):
    """F: (B, C, P, P) patch with a noise centre → (B, C, P, P) inpainted patch r (eq. 4.3).

    Two stride-2 stages down, four dilated 3×3 convolutions (dilation 1, 2, 4, 8) at P/4, and
    resize-convolutions back up to exactly P (no checkerboard artefacts from transposed
    convolutions, which C could otherwise learn to spot). The output is linear so that F can
    reproduce whatever value range the data has.
    """

    def __init__(self, channels: int = 3, width: int = 64) -> None:
        super().__init__()
        self.stem = _conv_bn_act(channels, width, 3)
        self.down1 = _conv_bn_act(width, 2 * width, 4, stride=2)
        self.down2 = _conv_bn_act(2 * width, 4 * width, 4, stride=2)
        self.context = nn.Sequential(*[_conv_bn_act(4 * width, 4 * width, 3, dilation=d) for d in (1, 2, 4, 8)])
        self.up2 = _conv_bn_act(6 * width, 2 * width, 3)
        self.up1 = _conv_bn_act(3 * width, width, 3)
        self.out = nn.Conv2d(2 * width, channels, 3, padding=1)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        s0 = self.stem(patches)
        s1 = self.down1(s0)
        s2 = self.context(self.down2(s1))
        u1 = self.up2(torch.cat([F.interpolate(s2, size=s1.shape[-2:], mode="nearest"), s1], 1))
        u0 = self.up1(torch.cat([F.interpolate(u1, size=s0.shape[-2:], mode="nearest"), s0], 1))
        return self.out(torch.cat([u0, s0], 1))


class PatchDiscriminator(nn.Module):
    """D: (B, C, P, P) patch → (B, 1, P/8, P/8) map of real/fake logits, one per receptive field."""

    def __init__(self, channels: int = 3, width: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = channels
        for out_ch in (width, 2 * width, 4 * width):
            layers += [spectral_norm(nn.Conv2d(in_ch, out_ch, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True)]
            in_ch = out_ch
        layers.append(spectral_norm(nn.Conv2d(in_ch, 1, 3, 1, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        return self.net(patches)
