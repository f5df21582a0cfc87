"""The two networks of Limited Context Inpainting (sec. 4.2.1): the inpainter F and the patch discriminator D.

F is a plain encoder-decoder that sees a patch whose centre is noise and must fill it from the thin
border alone. It has **no skip connections**, as in the authors' code (sjenni/LCI
``models/lci_nets.py``): a skip from the full-resolution input hands the centre's noise straight
to the output, and then F copies the noise instead of inpainting (measured with the earlier U-Net:
the centre's high-frequency energy was 6× that of real patches and correlated with the input noise
at 0.2, so C recognised LCI within 20 steps). Through a 1/8-resolution bottleneck the noise cannot
pass, and the border is all F has. D scores local receptive fields of a patch (a map of logits),
which is what makes the inpainted texture match *local* image statistics. Both are fully
convolutional, so any patch side works. Spectral normalisation in D is the usual companion of the
hinge loss [140].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

STAGES = 3
"""Stride-2 stages of F's encoder (and transposed-convolution stages of its decoder)."""


def _down(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 4, 2, 1, bias=False), nn.BatchNorm2d(out_ch), nn.LeakyReLU(0.1))


def _up(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, bias=False), nn.BatchNorm2d(out_ch), nn.LeakyReLU(0.1)
    )


class Inpainter(nn.Module):
    """F: (B, C, P, P) patch with a noise centre → (B, C, P, P) inpainted patch r (eq. 4.3), images in [0, 1].

    The authors' architecture: a 3×3 convolution (no BN), three stride-2 4×4 convolution + BN
    stages down (``width`` × 2, 4, 8 channels), three stride-2 4×4 transposed-convolution + BN
    stages up, a 3×3 output convolution and tanh; leaky-ReLU 0.1 throughout. The authors work on
    images in [−1, 1], so F maps our [0, 1] images there and its tanh output back: the same
    network and the same noise-to-signal ratio as theirs, and an output that cannot leave the
    image's range. A side that is not a multiple of 8 is padded (replicating its edge) and cropped back.
    """

    def __init__(self, channels: int = 3, width: int = 64, stages: int = STAGES) -> None:
        super().__init__()
        if stages < 1:
            raise ValueError(f"the inpainter needs at least 1 stride-2 stage, got {stages}")
        self.stages = stages
        widths = [width * 2**i for i in range(stages + 1)]
        self.stem = nn.Sequential(nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.1))
        self.encoder = nn.Sequential(*[_down(widths[i], widths[i + 1]) for i in range(stages)])
        self.decoder = nn.Sequential(*[_up(widths[i + 1], widths[i]) for i in reversed(range(stages))])
        self.out = nn.Conv2d(width, channels, 3, 1, 1)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        height, width = patches.shape[-2:]
        multiple = 2**self.stages
        pad_h, pad_w = -height % multiple, -width % multiple
        x = 2 * patches - 1
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        y = torch.tanh(self.out(self.decoder(self.encoder(self.stem(x)))))
        return (y[..., :height, :width] + 1) / 2


class PatchDiscriminator(nn.Module):
    """D: (B, C, P, P) patches → (B / pack, 1, P/8, P/8) map of real/fake logits, one per receptive field.

    ``pack`` patches of the batch are stacked on the channel axis and judged together, as the
    authors' D sees two patches at once (sjenni/LCI; "packing", Lin et al. 2018). Why: a D that
    sees one patch cannot tell an inpainter that paints the same plausible blob in every patch
    from one that inpaints each from its border; two patches with one shared pattern are easy to
    spot. Consecutive patches form a group (a batch not divisible by ``pack`` drops its last
    patches); real and inpainted patches are never mixed in a group, so every group has one label.
    """

    def __init__(self, channels: int = 3, width: int = 64, pack: int = 1) -> None:
        super().__init__()
        if pack < 1:
            raise ValueError(f"lci discriminator_pack must be >= 1, got {pack}")
        self.pack = pack
        layers: list[nn.Module] = []
        in_ch = channels * pack
        for out_ch in (width, 2 * width, 4 * width):
            layers += [spectral_norm(nn.Conv2d(in_ch, out_ch, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True)]
            in_ch = out_ch
        layers.append(spectral_norm(nn.Conv2d(in_ch, 1, 3, 1, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        if self.pack > 1:
            groups = patches.shape[0] // self.pack
            if groups == 0:
                raise ValueError(f"D packs {self.pack} patches per group but got a batch of {patches.shape[0]}")
            patches = patches[: groups * self.pack].reshape(groups, -1, *patches.shape[-2:])
        return self.net(patches)
