"""The drop mask Ω and the damaged feature φ̂ of sec. 3.3.1, against independent references."""

import numpy as np
import pytest
import torch
from scipy.stats import binomtest

from transformrec.functional.feature_damage import damage_features, sample_keep_mask, uniform_average, upsample_mask


def _window_mean_reference(features: np.ndarray, kernel: int) -> np.ndarray:
    """Mean over the k×k window centred on each entry, clipped to the grid (explicit loops)."""
    out = np.empty_like(features)
    half = kernel // 2
    _, _, rows, cols = features.shape
    for i in range(rows):
        for j in range(cols):
            window = features[:, :, max(0, i - half) : i + half + 1, max(0, j - half) : j + half + 1]
            out[:, :, i, j] = window.mean(axis=(2, 3))
    return out


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.7, 0.9])
def test_entries_are_dropped_with_probability_theta(rate):
    keep = sample_keep_mask(64, 8, 8, rate, torch.Generator().manual_seed(3))
    assert keep.shape == (64, 1, 8, 8) and set(keep.unique().tolist()) <= {0.0, 1.0}
    dropped = int((keep == 0).sum())
    assert binomtest(dropped, keep.numel(), rate).pvalue > 1e-3


def test_drop_rate_outside_the_unit_interval_is_rejected():
    with pytest.raises(ValueError, match="drop_rate"):
        sample_keep_mask(1, 2, 2, 1.5)


@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_uniform_average_is_the_clipped_window_mean(kernel):
    features = torch.randn(2, 3, 6, 7, generator=torch.Generator().manual_seed(0))
    expected = _window_mean_reference(features.numpy(), kernel)
    np.testing.assert_allclose(uniform_average(features, kernel).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_even_kernels_are_rejected():
    with pytest.raises(ValueError, match="odd"):
        uniform_average(torch.zeros(1, 1, 4, 4), 4)


def test_dropped_entries_take_the_average_on_every_channel_and_kept_entries_are_unchanged():
    features = torch.randn(4, 5, 8, 8, generator=torch.Generator().manual_seed(1))
    keep = sample_keep_mask(4, 8, 8, 0.5, torch.Generator().manual_seed(2))
    damaged = damage_features(features, keep, "average", 5)
    average = torch.from_numpy(_window_mean_reference(features.numpy(), 5))
    kept = keep.expand_as(features).bool()
    assert torch.equal(damaged[kept], features[kept])
    torch.testing.assert_close(damaged[~kept], average[~kept], rtol=1e-5, atol=1e-6)


def test_noise_fill_replaces_dropped_entries_with_per_channel_matched_noise():
    features = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 3 + 5
    keep = torch.zeros(2, 1, 16, 16)
    keep[:, :, :2] = 1
    damaged = damage_features(features, keep, "noise", generator=torch.Generator().manual_seed(0))
    assert torch.equal(damaged[:, :, :2], features[:, :, :2])
    filled = damaged[:, :, 2:]
    assert not torch.allclose(filled, features[:, :, 2:])
    assert abs(float(filled.mean()) - 5) < 0.5 and abs(float(filled.std()) - 3) < 0.5


def test_mask_upsampling_is_nearest_neighbour():
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    up = upsample_mask(mask, (4, 4))
    assert torch.equal(up[0, 0], torch.kron(mask[0, 0], torch.ones(2, 2)))
