"""Batched crop + flip against a per-sample reference built from slicing."""

import torch
import torch.nn.functional as F

from transformrec.functional.crop_flip import crop_and_flip
from transformrec.transforms import RandomCropFlip


def test_crop_and_flip_matches_per_sample_slicing():
    images = torch.rand(4, 2, 6, 6)
    top, left = torch.tensor([0, 1, 2, 4]), torch.tensor([4, 0, 3, 2])
    flip = torch.tensor([False, True, False, True])
    out = crop_and_flip(images, top, left, flip, padding=2)
    padded = F.pad(images, (2, 2, 2, 2), mode="reflect")
    for b in range(4):
        expected = padded[b, :, top[b] : top[b] + 6, left[b] : left[b] + 6]
        if flip[b]:
            expected = expected.flip(-1)
        torch.testing.assert_close(out[b], expected)


def test_random_crop_flip_is_seeded_and_keeps_shape():
    images = torch.rand(8, 3, 16, 16)
    a = RandomCropFlip(padding=3)(images, torch.Generator().manual_seed(0))
    b = RandomCropFlip(padding=3)(images, torch.Generator().manual_seed(0))
    assert a.shape == images.shape and torch.equal(a, b)


def test_no_padding_no_flip_is_identity():
    images = torch.rand(3, 1, 5, 5)
    torch.testing.assert_close(RandomCropFlip(padding=0, hflip=False)(images), images)
