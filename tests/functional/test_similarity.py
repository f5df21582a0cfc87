"""similarity_warp against exact pixel maps: identity, a quarter turn and a one-pixel shift."""

import math

import torch

from transformrec.functional.similarity import random_similarity, similarity_warp


def _images(batch: int = 2, size: int = 8) -> torch.Tensor:
    return torch.arange(batch * 3 * size * size, dtype=torch.float32).reshape(batch, 3, size, size) / 100


def test_unit_scale_no_angle_no_shift_is_the_identity():
    images = _images()
    ones, zeros = torch.ones(2), torch.zeros(2)
    out = similarity_warp(images, ones, zeros, torch.zeros(2, 2))
    torch.testing.assert_close(out, images, atol=1e-5, rtol=0)


def test_a_quarter_turn_moves_every_pixel_centre_onto_another():
    """Output (x, y) samples the input at (cos·x − sin·y, sin·x + cos·y): at π/2 that is (−y, x), so
    out[r, c] = in[c, W−1−r] for a square image (pixel centres map onto pixel centres)."""
    images = _images(size=6)
    out = similarity_warp(images, torch.ones(2), torch.full((2,), math.pi / 2), torch.zeros(2, 2))
    size = images.shape[-1]
    expected = torch.empty_like(images)
    for r in range(size):
        for c in range(size):
            expected[..., r, c] = images[..., c, size - 1 - r]
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=0)


def test_a_shift_of_one_pixel_reads_the_next_column():
    """A shift is in units of half the side: 2/W is one pixel, out[:, c] = in[:, c + 1] inside the image."""
    images = _images(size=8)
    shift = torch.tensor([[2 / 8, 0.0]] * 2)
    out = similarity_warp(images, torch.ones(2), torch.zeros(2), shift)
    torch.testing.assert_close(out[..., :-1], images[..., 1:], atol=1e-5, rtol=0)
    torch.testing.assert_close(out[..., -1], images[..., -1], atol=1e-5, rtol=0)  # border padding


def test_random_similarity_is_seeded_and_changes_the_images():
    images = torch.rand(4, 3, 16, 16)
    first = random_similarity(images, torch.Generator().manual_seed(3))
    again = random_similarity(images, torch.Generator().manual_seed(3))
    other = random_similarity(images, torch.Generator().manual_seed(4))
    torch.testing.assert_close(first, again, atol=0, rtol=0)
    assert not torch.allclose(first, other) and not torch.allclose(first, images)
