"""Patch geometry of LCI (eqs. 4.2–4.4): extraction, pasting, the centre mask, uniform locations."""

import pytest
import torch
from scipy.stats import chisquare

from transformrec.functional.patches import (
    centre_mask,
    extract_patches,
    hide_centre,
    paste_patches,
    patch_side,
    sample_patch_corners,
)


def test_patch_side_is_a_fraction_up_to_one_and_pixels_above():
    assert patch_side(64, 0.75) == 48  # the thesis's 48×48 at 64×64
    assert patch_side(32, 0.75) == 24
    assert patch_side(64, 40) == 40
    with pytest.raises(ValueError, match="does not fit"):
        patch_side(32, 40)


def test_extraction_matches_slicing_each_image():
    images = torch.randn(3, 2, 10, 12)
    corners = torch.tensor([[0, 0], [3, 5], [6, 8]])
    patches = extract_patches(images, corners, 4)
    for b, (top, left) in enumerate(corners.tolist()):
        assert torch.equal(patches[b], images[b, :, top : top + 4, left : left + 4])


def test_pasting_changes_only_the_patch_and_puts_it_there():
    images = torch.randn(2, 3, 9, 9)
    patches = torch.randn(2, 3, 5, 5)
    corners = torch.tensor([[1, 4], [4, 0]])
    out = paste_patches(images, patches, corners)
    for b, (top, left) in enumerate(corners.tolist()):
        inside = torch.zeros(9, 9, dtype=torch.bool)
        inside[top : top + 5, left : left + 5] = True
        assert torch.equal(out[b][:, ~inside], images[b][:, ~inside])
        assert torch.equal(out[b, :, top : top + 5, left : left + 5], patches[b])


def test_pasting_passes_gradients_to_the_patch_and_the_untouched_pixels():
    images = torch.randn(1, 1, 6, 6, requires_grad=True)
    patches = torch.randn(1, 1, 3, 3, requires_grad=True)
    paste_patches(images, patches, torch.tensor([[2, 1]])).sum().backward()
    assert torch.equal(patches.grad, torch.ones_like(patches))
    expected = torch.ones(1, 1, 6, 6)
    expected[..., 2:5, 1:4] = 0  # pixels under the patch no longer reach the output
    assert torch.equal(images.grad, expected)


def test_centre_mask_keeps_a_border_of_the_given_width():
    mask = centre_mask(8, 2)
    assert mask.shape == (1, 1, 8, 8)
    assert mask.sum() == 16  # (8 − 2·2)²
    assert mask[..., :2, :].sum() == 0 and mask[..., :, -2:].sum() == 0
    with pytest.raises(ValueError, match="no centre"):
        centre_mask(4, 2)


def test_hidden_patch_keeps_the_border_and_shows_noise_in_the_centre():
    patches, noise = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    mask = centre_mask(8, 2)
    hidden = hide_centre(patches, mask, noise)
    assert torch.equal(hidden[..., :2, :], patches[..., :2, :])
    assert torch.equal(hidden[..., 2:6, 2:6], noise[..., 2:6, 2:6])


def test_patch_locations_are_uniform_over_the_valid_positions():
    corners = sample_patch_corners(9000, 6, 7, 4, torch.Generator().manual_seed(0))
    assert corners[:, 0].max() == 2 and corners[:, 1].max() == 3 and corners.min() == 0
    counts = torch.bincount(corners[:, 0] * 4 + corners[:, 1], minlength=12)
    assert chisquare(counts.numpy()).pvalue > 1e-3
