"""DCGAN generator and discriminator of table 7.2 (32×32 and 64×64), and the noise generator of sec. 7.2.2.

Generator: z ∈ R^128 → fully connected, BN, ReLU to 4×4×M → 4×4 stride-2 deconvolutions with BN
and ReLU (512 only at 64 px, then 256, 128, 64) → 3×3 stride-1 deconvolution with tanh. M = 512
at 32 px and 1024 at 64 px. The discriminator mirrors it with 4×4 stride-2 convolutions, BN and
leaky ReLU (64, 128, 256, 512 channels, plus 1024 at 64 px; the table lists the last rows, the
first ones are the DCGAN [25] convention) and a fully connected output. It returns logits: the
sigmoid of the table is folded into the losses (``transformrec.adversarial.objectives``).

``width`` scales every channel count, so the same architecture runs at small scale on a CPU.
The discriminator's first convolution has no batch normalisation (the DCGAN convention [25], and
the authors' code). The noise generator N(w) is the generator with ×1/8 of its channels (table
7.2's caption), but never narrower than at the thesis's width (64 → 32 → 16 → 8 channels, the
authors' code), with output 2·tanh: see :class:`NoiseGenerator`. The options
the robustness study varies (table 7.4: BN in G, activation) and spectral normalisation (SNGAN
[43], then without BN in D) are constructor arguments.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

Activation = Literal["relu", "tanh"]


def _channels(image_size: int) -> tuple[int, tuple[int, ...]]:
    """(M, deconvolution channels) of table 7.2 for a supported resolution."""
    if image_size == 32:
        return 512, (256, 128, 64)
    if image_size == 64:
        return 1024, (512, 256, 128, 64)
    raise ValueError(f"table 7.2 defines DCGAN for 32×32 and 64×64 images, not {image_size}×{image_size}")


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


class DCGANGenerator(nn.Module):
    """G(z) of table 7.2; ``batch_norm=False`` and ``activation="tanh"`` are table 7.4 (a) and (b)."""

    def __init__(
        self,
        image_size: int = 32,
        out_channels: int = 3,
        latent_dim: int = 128,
        width: float = 1.0,
        batch_norm: bool = True,
        activation: Activation = "relu",
        output_activation: bool = True,
    ) -> None:
        super().__init__()
        top, deconvs = _channels(image_size)
        top = _scaled(top, width)
        self.latent_dim = latent_dim
        self.top = top

        def act() -> nn.Module:
            return nn.ReLU(inplace=True) if activation == "relu" else nn.Tanh()

        def norm1d(c: int) -> nn.Module:
            return nn.BatchNorm1d(c) if batch_norm else nn.Identity()

        def norm2d(c: int) -> nn.Module:
            return nn.BatchNorm2d(c) if batch_norm else nn.Identity()

        self.project = nn.Sequential(nn.Linear(latent_dim, 16 * top), norm1d(16 * top), act())
        layers: list[nn.Module] = []
        in_ch = top
        for c in deconvs:
            c = _scaled(c, width)
            layers += [nn.ConvTranspose2d(in_ch, c, 4, 2, 1), norm2d(c), act()]
            in_ch = c
        layers.append(nn.ConvTranspose2d(in_ch, out_channels, 3, 1, 1))
        if output_activation:
            layers.append(nn.Tanh())
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.project(z).view(z.shape[0], self.top, 4, 4))


class DCGANDiscriminator(nn.Module):
    """D(x) of table 7.2 returning one logit per image; ``spectral_norm=True`` is SNGAN [43] (no BN).

    BN follows every convolution but the first (``first_layer_batch_norm`` adds it there too).

    Batch normalisation here is why real and fake images must reach D in separate batches
    (sec. 7.2.3): the distribution-filtering loss does so.
    """

    def __init__(
        self,
        image_size: int = 32,
        in_channels: int = 3,
        width: float = 1.0,
        batch_norm: bool = True,
        spectral_norm: bool = False,
        activation: Activation = "relu",
        first_layer_batch_norm: bool = False,
    ) -> None:
        super().__init__()
        convs = (64, 128, 256, 512) if image_size == 32 else (64, 128, 256, 512, 1024)
        _channels(image_size)  # validates the resolution
        wrap = _spectral if spectral_norm else _identity
        use_bn = batch_norm and not spectral_norm
        layers: list[nn.Module] = []
        in_ch = in_channels
        for index, c in enumerate(convs):
            c = _scaled(c, width)
            layers.append(wrap(nn.Conv2d(in_ch, c, 4, 2, 1)))
            if use_bn and (index > 0 or first_layer_batch_norm):
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.LeakyReLU(0.2, inplace=True) if activation == "relu" else nn.Tanh())
            in_ch = c
        self.body = nn.Sequential(*layers)
        self.head = wrap(nn.Linear(in_ch * 4, 1))  # the last convolution leaves 2×2 maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1)).squeeze(1)


def _spectral(module: nn.Module) -> nn.Module:
    return spectral_norm(module)


def _identity(module: nn.Module) -> nn.Module:
    return module


NOISE_WIDTH_FLOOR = 1 / 8
"""N(w)'s channel multiplier is never below this: 64 → 32 → 16 → 8 channels at 32 px, the authors'
noise network. At our CPU width 0.125 the generator's ×1/8 would be 8 → 4 → 2 → 1 channels (17K
parameters, a one-channel last layer) and could barely shape the noise."""

NOISE_OUTPUT_SCALE = 2.0
"""N(w)'s output is 2·tanh (authors' code): bounded, yet large enough to cover images in [−1, 1]."""


class NoiseGenerator(nn.Module):
    """N(w) of sec. 7.2.1: the generator's architecture with ×1/8 of its channels and a 2·tanh output.

    Why these choices: the thesis gives the architecture as "the generator's with a reduced number
    of filters" (×1/8, table 7.2); the floor and the output follow the authors' code (see the
    module constants). ``latent_dim`` equals G's, so N can be fed G's own z (``NoiseConfig.latent``).
    """

    def __init__(self, image_size: int = 32, channels: int = 3, latent_dim: int = 128, width: float = 1.0) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        noise_width = max(width / 8, NOISE_WIDTH_FLOOR)
        self.body = DCGANGenerator(image_size, channels, latent_dim, noise_width, output_activation=False)

    @property
    def top(self) -> int:
        return self.body.top

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return NOISE_OUTPUT_SCALE * torch.tanh(self.body(w))


def noise_generator(image_size: int = 32, channels: int = 3, latent_dim: int = 128, width: float = 1.0) -> nn.Module:
    """N(w) for a GAN of ``width``: a :class:`NoiseGenerator`."""
    return NoiseGenerator(image_size, channels, latent_dim, width)
