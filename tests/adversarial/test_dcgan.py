"""DCGAN of table 7.2: resolutions, channel counts, and the table 7.4 / SNGAN options."""

import pytest
import torch
from torch import nn

from transformrec.adversarial.dcgan import DCGANDiscriminator, DCGANGenerator, noise_generator


@pytest.mark.parametrize("size", [32, 64])
def test_generator_maps_128_d_latents_to_tanh_images_and_discriminator_to_one_logit(size):
    g, d = DCGANGenerator(size, 3, width=0.125), DCGANDiscriminator(size, 3, width=0.125)
    images = g(torch.randn(2, 128))
    assert images.shape == (2, 3, size, size) and images.abs().max() <= 1
    assert d(images).shape == (2,)


def test_channel_counts_follow_table_7_2_at_full_width():
    g32, g64 = DCGANGenerator(32), DCGANGenerator(64)
    deconvs = [m.out_channels for m in g32.body if isinstance(m, nn.ConvTranspose2d)]
    assert g32.top == 512 and deconvs == [256, 128, 64, 3]
    assert g64.top == 1024 and [m.out_channels for m in g64.body if isinstance(m, nn.ConvTranspose2d)][0] == 512


def _deconv_channels(network: nn.Module) -> list[int]:
    return [m.out_channels for m in network.modules() if isinstance(m, nn.ConvTranspose2d)]


@pytest.mark.parametrize("width", [1.0, 0.125, 0.5])
def test_noise_generator_is_64_32_16_8_channels_at_and_below_the_thesis_width(width):
    """Table 7.2 / the authors' code: ×1/8 of G at width 1, and never narrower at a CPU width."""
    n = noise_generator(32, 3, width=width)
    assert n.top == 64 and _deconv_channels(n) == [32, 16, 8, 3]


def test_noise_generator_scales_past_the_thesis_width():
    assert _deconv_channels(noise_generator(32, 3, width=2.0)) == [64, 32, 16, 3]


def test_noise_generator_output_is_two_tanh():
    n = noise_generator(32, 1, width=0.125)
    with torch.no_grad():
        for p in n.parameters():
            p.mul_(50)  # saturate: the output must stay inside (−2, 2) and reach beyond ±1
        out = n(torch.randn(16, 128))
    assert out.abs().max() <= 2.0 and out.abs().max() > 1.5


def test_discriminator_has_no_batch_norm_on_its_first_layer():
    d = DCGANDiscriminator(32, 3, width=0.125)
    assert isinstance(d.body[0], nn.Conv2d) and isinstance(d.body[1], nn.LeakyReLU)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 3
    assert (
        sum(isinstance(m, nn.BatchNorm2d) for m in DCGANDiscriminator(32, 3, first_layer_batch_norm=True).modules())
        == 4
    )


def test_spectral_norm_discriminator_drops_batch_norm_and_bounds_each_weight():
    d = DCGANDiscriminator(32, 1, width=0.125, spectral_norm=True)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())
    d(torch.randn(4, 1, 32, 32))  # one power iteration per call
    conv = d.body[0]
    assert torch.linalg.matrix_norm(conv.weight.flatten(1), ord=2).item() == pytest.approx(1.0, rel=0.3)


def test_generator_without_batch_norm_is_table_7_4_a():
    assert not any(
        isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d) for m in DCGANGenerator(32, batch_norm=False).modules()
    )


def test_unsupported_resolution_names_the_table():
    with pytest.raises(ValueError, match="table 7.2"):
        DCGANGenerator(48)
