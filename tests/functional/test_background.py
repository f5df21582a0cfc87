"""Background median / threshold / removal / substitution against numpy (sec. 6.2.2)."""

import numpy as np
import torch

from transformrec.functional.background import (
    foreground_mask,
    median_background,
    remove_background,
    substitute_background,
)


def test_median_matches_numpy_for_odd_and_even_counts():
    frames = torch.rand(7, 3, 5, 6, generator=torch.Generator().manual_seed(0))
    assert np.allclose(median_background(frames).numpy(), np.median(frames.numpy(), axis=0))
    assert np.allclose(median_background(frames[:6]).numpy(), np.median(frames[:6].numpy(), axis=0))


def test_threshold_removal_and_substitution_match_numpy():
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(2, 3, 8, 8, generator=generator)
    background = torch.rand(3, 8, 8, generator=generator)
    other = torch.rand(3, 8, 8, generator=generator)
    diff = np.abs(images.numpy() - background.numpy()).max(axis=1, keepdims=True)
    mask = (diff > 0.3).astype(np.float32)
    assert np.array_equal(foreground_mask(images, background, 0.3).numpy(), mask)
    assert np.allclose(remove_background(images, background, 0.3).numpy(), images.numpy() * mask)
    expected = images.numpy() * mask + other.numpy() * (1 - mask)
    assert np.allclose(substitute_background(images, background, other, 0.3).numpy(), expected)


def test_static_background_is_recovered_from_a_moving_object():
    background = torch.rand(3, 12, 12, generator=torch.Generator().manual_seed(2)) * 0.5
    frames = background.repeat(9, 1, 1, 1)
    for t in range(9):  # a bright square moving across: any pixel is covered in at most 3 frames
        frames[t, :, 4:7, t : t + 3] = 1.0
    assert torch.allclose(median_background(frames), background)
    mask = foreground_mask(frames[4], background, 0.1)
    assert mask[0, 4:7, 4:7].all() and mask.sum() == 9
