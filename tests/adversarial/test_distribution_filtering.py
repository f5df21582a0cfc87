"""Distribution filtering (eq. 7.8, Algorithm 1, sec. 7.2.2–7.2.3) on small closed-form cases."""

import math

import pytest
import torch
from torch import nn

from transformrec.adversarial import gan_objective
from transformrec.adversarial.dcgan import noise_generator
from transformrec.adversarial.distribution_filtering import (
    DistributionFilter,
    GaussianNoise,
    NetworkNoise,
    batch_standardize,
    discriminator_loss,
    filtered_batch,
    generator_loss,
)


def _sigmoid(s: float) -> float:
    return 1.0 / (1.0 + math.exp(-s))


def test_fixed_gaussian_noise_has_zero_mean_and_standard_deviation_sigma():
    torch.manual_seed(0)
    noise = GaussianNoise(sigma=0.3).sample(torch.zeros(200, 1, 16, 16))
    assert abs(noise.mean().item()) < 0.005  # 51 200 draws: standard error 0.0013
    assert noise.std().item() == pytest.approx(0.3, rel=0.02)
    assert list(GaussianNoise(sigma=0.3).parameters()) == []


def test_annealed_sigma_falls_linearly_to_zero():
    noise = GaussianNoise(sigma=2.0, anneal_steps=4)
    sigmas = []
    for _ in range(6):
        sigmas.append(float(noise.sigma))
        noise.step()
    assert sigmas == pytest.approx([2.0, 1.5, 1.0, 0.5, 0.0, 0.0])


def test_learned_sigma_penalty_pushes_sigma_down_with_gradient_two_lambda_sigma():
    noise = GaussianNoise(sigma=0.5, learned=True)
    filt = DistributionFilter(noise, "clean_and_noisy", penalty=3.0)
    bias = nn.Parameter(torch.zeros(()))

    def blind(x: torch.Tensor) -> torch.Tensor:  # a discriminator that ignores its input, so ∂L_D/∂σ = 0
        return bias + 0 * x.flatten(1).sum(1)

    d_loss, penalty = filt.discriminator_losses(blind, gan_objective("minimax"), torch.rand(4, 2), torch.rand(4, 2))
    assert penalty.item() == pytest.approx(3.0 * 0.25)
    filt.backward(d_loss, penalty, [bias])
    assert noise.sigma0.grad.item() == pytest.approx(2 * 3.0 * 0.5)


def test_noise_network_penalty_is_the_squared_norm_per_image_or_its_per_pixel_mean():
    noise = torch.tensor([[[1.0, 2.0]], [[0.0, 3.0]]])  # norms² 5 and 9 over 2 pixels each
    assert NetworkNoise(nn.Identity(), 2, penalty_reduction="sum").penalty(noise).item() == pytest.approx(7.0)
    assert NetworkNoise(nn.Identity(), 2, penalty_reduction="mean").penalty(noise).item() == pytest.approx(3.5)
    with pytest.raises(ValueError, match="penalty_reduction"):
        NetworkNoise(nn.Identity(), 2, penalty_reduction="max")


def test_the_filter_records_the_rms_of_the_noise_it_drew():
    filt = DistributionFilter(GaussianNoise(0.5), "clean_and_noisy")
    assert filt.last_noise_rms is None
    torch.manual_seed(0)
    real = torch.zeros(256, 1, 8, 8)
    filt.discriminator_losses(lambda x: x.flatten(1).mean(1), gan_objective("minimax"), real, real)
    assert filt.last_noise_rms == pytest.approx(0.5, rel=0.03)  # σ of N(0, σ²) over 16k draws


def test_noise_generator_makes_image_shaped_noise_with_trainable_parameters():
    noise = NetworkNoise(noise_generator(32, 1, width=0.25), 128)
    sample = noise.sample(torch.zeros(3, 1, 32, 32))
    assert sample.shape == (3, 1, 32, 32) and DistributionFilter(noise).learns_noise


def test_batches_follow_section_7_2_2():
    x = torch.arange(4.0).view(4, 1)
    eps = torch.full((4, 1), 10.0)
    assert filtered_batch(x, eps, "clean_and_noisy").flatten().tolist() == [0, 1, 2, 3, 10, 11, 12, 13]
    assert filtered_batch(x, eps, "half_noisy").flatten().tolist() == [0, 1, 12, 13]
    assert filtered_batch(x, eps, "noisy_only").flatten().tolist() == [10, 11, 12, 13]
    assert filtered_batch(x, None, "off").flatten().tolist() == [0, 1, 2, 3]


def test_discriminator_loss_equals_eq_7_8_for_a_linear_discriminator():
    real, fake = torch.tensor([[0.2], [-0.4]]), torch.tensor([[1.0], [0.5]])
    eps = torch.tensor([[0.3], [-0.1]])

    def d(x: torch.Tensor) -> torch.Tensor:
        return 2.0 * x.squeeze(1)

    r, f, e = [v.flatten().tolist() for v in (real, fake, eps)]
    expected = 0.0
    for shift in ([0.0, 0.0], e):  # clean term + filtered term, each a mean over the m = 2 samples
        expected -= sum(math.log(_sigmoid(2 * (a + s))) for a, s in zip(r, shift, strict=True)) / 2
        expected -= sum(math.log(1 - _sigmoid(2 * (a + s))) for a, s in zip(f, shift, strict=True)) / 2
    loss = discriminator_loss(d, gan_objective("minimax"), real, fake, eps, "clean_and_noisy")
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    g_expected = (
        sum(-math.log(_sigmoid(2 * (a + s))) for a, s in zip(f, e, strict=True)) / 2
        + sum(-math.log(_sigmoid(2 * a)) for a in f) / 2
    )
    g_loss = generator_loss(d, gan_objective("non_saturating"), fake, eps, "clean_and_noisy")
    assert g_loss.item() == pytest.approx(g_expected, rel=1e-6)


@pytest.mark.parametrize("through_the_noise_tensor", [True, False])
def test_one_backward_gives_d_its_gradient_and_the_noise_network_minus_it_plus_the_penalty_gradient(
    through_the_noise_tensor,
):
    # True: the pass through D stops at ε and N(w) is reached once (losses from discriminator_losses);
    # False: losses whose ε the filter does not hold, differentiated into N(w) directly.
    torch.manual_seed(1)
    noise = NetworkNoise(nn.Linear(2, 3), latent_dim=2)
    filt = DistributionFilter(noise, "clean_and_noisy", penalty=0.1)
    d = nn.Linear(3, 1)
    objective = gan_objective("least_squares")
    d_loss, penalty = filt.discriminator_losses(
        lambda x: d(x).squeeze(1), objective, torch.randn(5, 3), torch.randn(5, 3)
    )
    noise_params, d_params = list(noise.parameters()), list(d.parameters())
    expected_noise = torch.autograd.grad(-d_loss + penalty, noise_params, retain_graph=True)
    expected_d = torch.autograd.grad(d_loss, d_params, retain_graph=True)
    for param in noise_params + d_params:
        param.grad = torch.ones_like(param)  # gradients accumulate, as with backward()
    if not through_the_noise_tensor:
        filt._learned_noise = None
    filt.backward(d_loss, penalty, d_params)
    for param, grad in zip(noise_params + d_params, expected_noise + expected_d, strict=True):
        assert torch.allclose(param.grad, 1 + grad, atol=1e-6)


def test_half_noisy_batch_samples_noise_for_half_the_images_only():
    calls = []

    class Recording(nn.Module):
        def forward(self, w: torch.Tensor) -> torch.Tensor:
            calls.append(w.shape[0])
            return torch.zeros(w.shape[0], 1)

    filt = DistributionFilter(NetworkNoise(Recording(), 1), "half_noisy")
    filt.discriminator_losses(lambda x: x.squeeze(1), gan_objective("hinge"), torch.zeros(7, 1), torch.zeros(7, 1))
    assert calls == [4]


def test_real_and_fake_reach_the_discriminator_in_separate_batches():
    batches = []

    def d(x: torch.Tensor) -> torch.Tensor:
        batches.append(x.clone())
        return x.flatten(1).sum(1)

    real, fake = torch.zeros(3, 1), torch.ones(3, 1)
    discriminator_loss(d, gan_objective("hinge"), real, fake, torch.full((3, 1), 0.5), "clean_and_noisy")
    assert [b.flatten().tolist() for b in batches] == [[0, 0, 0, 0.5, 0.5, 0.5], [1, 1, 1, 1.5, 1.5, 1.5]]


def test_off_mode_is_the_standard_gan_and_ignores_the_noise_model():
    filt = DistributionFilter(None, "off")
    d_loss, penalty = filt.discriminator_losses(
        lambda x: x.squeeze(1), gan_objective("minimax"), torch.tensor([[0.0]]), torch.tensor([[0.0]])
    )
    assert penalty is None and d_loss.item() == pytest.approx(2 * math.log(2))
    with pytest.raises(ValueError, match="needs a noise model"):
        DistributionFilter(None, "clean_and_noisy")


def test_wgan_gp_adds_the_weighted_penalty_on_the_filtered_batches():
    weight = torch.tensor([3.0, 4.0])
    real, fake = torch.randn(4, 2), torch.randn(4, 2)
    loss = discriminator_loss(
        lambda x: x @ weight, gan_objective("wgan_gp"), real, fake, torch.zeros(4, 2), "half_noisy"
    )
    critic = (fake @ weight).mean() - (real @ weight).mean()
    assert loss.item() == pytest.approx(critic.item() + 10.0 * 16.0, rel=1e-5)


def test_batch_standardize_matches_parameter_free_batch_norm():
    images = torch.randn(6, 3, 5, 5) * 4 + 2
    expected = torch.nn.functional.batch_norm(images, None, None, training=True, eps=1e-5)
    torch.testing.assert_close(batch_standardize(images), expected)


def test_separate_normalization_standardizes_the_noisy_part_by_its_own_statistics_and_keeps_clean_images():
    images, noise = torch.randn(4, 2, 3, 3) + 5, 3 * torch.randn(4, 2, 3, 3)
    batch = filtered_batch(images, noise, "clean_and_noisy", normalize=True)
    torch.testing.assert_close(batch[:4], images)  # clean images: D still judges absolute values
    noisy = batch[4:]
    assert torch.allclose(noisy.mean(dim=(0, 2, 3)), torch.zeros(2), atol=1e-5)
    assert torch.allclose(noisy.var(dim=(0, 2, 3), unbiased=False), torch.ones(2), atol=1e-3)
    half = filtered_batch(images, noise, "half_noisy", normalize=True)
    torch.testing.assert_close(half[:2], images[:2])
    torch.testing.assert_close(half[2:], batch_standardize(images[2:] + noise[:2]))
    torch.testing.assert_close(filtered_batch(images, noise, "off", normalize=True), images)


def test_separate_normalization_exposes_a_mode_collapsed_fake_batch_to_a_per_sample_discriminator():
    """Fig. 7.4: reals in two modes ±1, fakes collapsed onto the +1 mode. Per sample, every noisy fake
    looks like a noisy real; standardised per batch, the fakes land near 0, where no real is."""
    real = torch.tensor([1.0, -1.0] * 8).view(16, 1, 1, 1)
    fake = torch.ones(16, 1, 1, 1)
    noise = 0.01 * torch.randn(16, 1, 1, 1, generator=torch.Generator().manual_seed(0))
    raw_real, raw_fake = filtered_batch(real, noise, "noisy_only"), filtered_batch(fake, noise, "noisy_only")
    assert raw_fake.min() > raw_real[real > 0].min() - 0.05 and raw_fake.max() < raw_real.max() + 0.05
    normal_real = filtered_batch(real, noise, "noisy_only", normalize=True)
    normal_fake = filtered_batch(fake, noise, "noisy_only", normalize=True)
    assert normal_real.abs().min() > 0.9  # the two real modes stay at about ±1
    assert (normal_fake.abs() < 0.9).float().mean() > 0.5  # most collapsed fakes fall between them


def test_filter_with_separate_normalization_feeds_the_discriminator_standardised_noisy_groups():
    seen = []

    def discriminator(x):
        seen.append(x.detach().clone())
        return x.flatten(1).mean(1)

    dfilter = DistributionFilter(GaussianNoise(0.5), "clean_and_noisy", separate_normalization=True)
    real, fake = torch.randn(4, 1, 2, 2) * 3 + 1, torch.randn(4, 1, 2, 2)
    torch.manual_seed(3)
    dfilter.discriminator_losses(discriminator, gan_objective("hinge"), real, fake)
    torch.manual_seed(3)
    noise = 0.5 * torch.randn(4, 1, 2, 2)
    assert len(seen) == 2
    torch.testing.assert_close(seen[0], torch.cat([real, batch_standardize(real + noise)]))
    torch.testing.assert_close(seen[1], torch.cat([fake, batch_standardize(fake + noise)]))


def test_a_noise_network_fed_latents_computes_them_and_the_half_noisy_batch_feeds_the_second_half():
    """Authors' code: N gets G's own z; in the half-noisy batch only x̃_{m/2+1..m} get ε, so their z."""
    network = nn.Sequential(nn.Linear(4, 6), nn.Unflatten(1, (1, 2, 3)))
    filt = DistributionFilter(NetworkNoise(network, 4), "half_noisy", penalty=1.0)
    seen = []
    network.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].clone()))
    z = torch.randn(6, 4)
    real, fake = torch.zeros(6, 1, 2, 3), torch.zeros(6, 1, 2, 3)
    filt.discriminator_losses(lambda x: x.flatten(1).sum(1), gan_objective("minimax"), real, fake, latent=z)
    assert torch.equal(seen[-1], z[3:])
    filt.generator_loss(lambda x: x.flatten(1).sum(1), gan_objective("minimax"), fake, latent=z)
    assert torch.equal(seen[-1], z[3:])
    with pytest.raises(ValueError, match="latents of shape"):
        NetworkNoise(network, 4).sample(real, latent=torch.randn(6, 5))


@pytest.mark.parametrize("weight", [1.0, 0.5])
def test_clean_and_noisy_terms_are_weighted_by_term_weight(weight):
    """Eq. 7.8 sums the clean and the filtered term (weight 1); the authors' code averages them (0.5)."""
    objective = gan_objective("minimax")
    scale = nn.Parameter(torch.tensor(1.0))

    def d(x: torch.Tensor) -> torch.Tensor:
        return scale * x.flatten(1).mean(1)

    real, fake, noise = torch.full((2, 1, 1, 1), 0.5), torch.full((2, 1, 1, 1), -0.5), torch.full((2, 1, 1, 1), 1.0)
    loss = discriminator_loss(d, objective, real, fake, noise, "clean_and_noisy", term_weight=weight)
    # −log σ(s) − log(1 − σ(s')) per term, by hand: clean scores 0.5 / −0.5, noisy 1.5 / 0.5
    clean = -math.log(_sigmoid(0.5)) - math.log(1 - _sigmoid(-0.5))
    noisy = -math.log(_sigmoid(1.5)) - math.log(1 - _sigmoid(0.5))
    assert loss.item() == pytest.approx(weight * (clean + noisy), rel=1e-5)
