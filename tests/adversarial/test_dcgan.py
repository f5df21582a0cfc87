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


def test_noise_generator_has_an_eighth_of_the_channels_and_a_linear_output():
    n = noise_generator(32, 3)
    assert n.top == 64 and [m.out_channels for m in n.body if isinstance(m, nn.ConvTranspose2d)] == [32, 16, 8, 3]
    assert not isinstance(n.body[-1], nn.Tanh)


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
