"""Inpainting-quality statistics against closed forms: each failure mode reads as itself."""

import pytest
import torch

from transformrec.functional.inpainting_quality import inpainting_quality, quality_gates

BORDER = 2


def _patches(n=16, side=12, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, side, side, generator=generator), 0.05 * torch.randn(n, 3, side, side, generator=generator)


def test_a_perfect_inpainter_has_zero_error_no_noise_correlation_and_the_real_energy():
    original, noise = _patches()
    quality = inpainting_quality(original.clone(), original, noise, BORDER)
    assert quality["centre_mse"] == 0
    assert quality["energy_ratio"] == pytest.approx(1.0)
    assert quality["fixed_pattern_share"] == pytest.approx(quality["fixed_pattern_share_real"])
    # independent uniform centres and noise: |r| ~ 1/sqrt(pixels) = 1/sqrt(16*3*64) ≈ 0.018
    assert quality["noise_correlation"] < 0.06
    assert all(quality_gates(quality).values())


def test_the_mean_fill_error_is_the_variance_of_the_centre_about_the_border_mean():
    original = torch.zeros(2, 1, 8, 8)
    original[0] = 0.25  # border and centre equal: the fill is exact
    original[1, :, BORDER:-BORDER, BORDER:-BORDER] = 1.0  # border 0, centre 1: squared error 1
    quality = inpainting_quality(original, original, torch.zeros_like(original), BORDER)
    assert quality["mean_fill_mse"] == pytest.approx(0.5)


def test_passing_the_noise_through_is_caught_by_correlation_and_energy():
    original, noise = _patches()
    blurred = torch.nn.functional.avg_pool2d(original, 3, 1, 1)
    passed_through = blurred + noise * 4  # a copy of the noise on top of a plausible fill
    quality = inpainting_quality(passed_through, blurred, noise, BORDER)
    assert quality["noise_correlation"] > 0.5
    assert quality["energy_ratio"] > 2
    gates = quality_gates(quality)
    assert not gates["noise_correlation"] and not gates["energy_ratio"]


def test_one_pattern_in_every_patch_has_a_fixed_pattern_share_near_one():
    original, noise = _patches()
    stripe = torch.zeros(1, 3, 12, 12)
    stripe[..., ::2, :] = 1.0
    quality = inpainting_quality(stripe.expand_as(original), original, noise, BORDER)
    assert quality["fixed_pattern_share"] == pytest.approx(1.0)
    # independent real centres: the common part of 16 patches is about 1/16 of their energy
    assert quality["fixed_pattern_share_real"] == pytest.approx(1 / 16, rel=0.5)
    assert not quality_gates(quality)["fixed_pattern"]


def test_a_constant_fill_has_no_high_frequency_energy():
    original, noise = _patches()
    flat = torch.full_like(original, 0.5)
    quality = inpainting_quality(flat, original, noise, BORDER)
    assert quality["energy_ratio"] == 0 and not quality_gates(quality)["energy_ratio"]
    assert quality["centre_mse"] == pytest.approx(float((original[..., 2:-2, 2:-2] - 0.5).pow(2).mean()))


def test_the_shuffled_real_error_is_twice_the_variance_for_independent_centres():
    """Closed form: centres i.i.d. U(0, 1) per pixel give E(x_i − x_j)² = 2 · 1/12."""
    generator = torch.Generator().manual_seed(1)
    original = torch.rand(400, 1, 12, 12, generator=generator)
    quality = inpainting_quality(original, original, torch.zeros_like(original), BORDER)
    assert quality["shuffled_real_mse"] == pytest.approx(2 / 12, rel=0.03)  # 25 600 pixel pairs


def test_the_nearest_border_real_centre_is_the_bank_centre_whose_border_is_closest():
    from transformrec.functional.inpainting_quality import nearest_border_real_mse

    def patch(border_value, centre_value):
        p = torch.full((1, 6, 6), border_value)
        p[:, 2:4, 2:4] = centre_value  # a 2 px border around a 2×2 centre
        return p

    bank = torch.stack([patch(0.0, 0.2), patch(1.0, 0.8)])
    queries = torch.stack([patch(0.1, 0.3), patch(0.7, 0.5)])  # nearest borders: 0.0, then 1.0
    expected = ((0.2 - 0.3) ** 2 + (0.8 - 0.5) ** 2) / 2
    assert abs(nearest_border_real_mse(queries, bank, border=2, chunk=1) - expected) < 1e-6
    assert nearest_border_real_mse(bank, bank, border=2) == 0.0  # each patch finds itself
