"""Tests for transformrec.data.label_noise: the noise model of sec. 8.4.3 and pixel permutations."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset

from transformrec.data import build_dataset
from transformrec.data.label_noise import NoisyLabels, PixelPermuted, corrupt_labels


class Labelled(Dataset):
    def __init__(self, n: int = 40, classes: int = 4) -> None:
        self.images = torch.rand(n, 2, 3, 3, generator=torch.Generator().manual_seed(0))
        self.labels = torch.arange(n) % classes
        self.num_classes, self.channels, self.image_size = classes, 2, 3

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        return self.images[index], int(self.labels[index])


def test_exactly_a_fraction_of_every_class_moves_to_another_class() -> None:
    labels = torch.arange(10).repeat_interleave(torch.tensor([50, 40, 30, 20, 10, 50, 40, 30, 20, 10]))
    noisy = corrupt_labels(labels, 0.4, 10, seed=1)
    for c in range(10):
        members = labels == c
        assert int((noisy[members] != c).sum()) == round(0.4 * int(members.sum()))
    assert noisy.min() >= 0 and noisy.max() <= 9


def test_new_labels_are_uniform_over_the_other_classes() -> None:
    labels = torch.zeros(30000, dtype=torch.long)
    noisy = corrupt_labels(labels, 1.0, 4, seed=0)
    counts = torch.bincount(noisy, minlength=4)
    assert counts[0] == 0
    assert all(abs(int(c) - 10000) < 400 for c in counts[1:])  # each ~1/3, ±4%: 5+ standard deviations


def test_zero_noise_is_the_identity_and_seeds_reproduce() -> None:
    labels = torch.arange(5).repeat(8)
    assert torch.equal(corrupt_labels(labels, 0.0, 5), labels)
    assert torch.equal(corrupt_labels(labels, 0.5, 5, seed=2), corrupt_labels(labels, 0.5, 5, seed=2))
    with pytest.raises(ValueError, match="fraction"):
        corrupt_labels(labels, 1.5, 5)


def test_noisy_labels_dataset_serves_noisy_labels_and_keeps_clean_ones() -> None:
    data = NoisyLabels(Labelled(), fraction=0.5, seed=0)
    assert int(data.is_noisy.sum()) == 20
    assert data.channels == 2 and data.num_classes == 4
    changed = int(data.is_noisy.nonzero()[0])
    image, label = data[changed]
    assert label == int(data.labels[changed]) != int(data.clean_labels[changed])
    assert torch.equal(image, data.base[changed][0])


def test_pixel_permutation_is_fixed_per_image_and_moves_channels_together() -> None:
    base = Labelled()
    data = PixelPermuted(base, per_image=True, seed=0)
    first, label = data[0]
    assert label == base[0][1]
    assert torch.equal(first, data[0][0])  # the same permutation every read
    perm = data.permutation(0, 9)
    assert torch.equal(first.flatten(1), base[0][0].flatten(1)[:, perm])  # both channels, same positions
    assert not torch.equal(data.permutation(0, 9), data.permutation(1, 9))
    shared = PixelPermuted(base, per_image=False, seed=0)
    assert torch.equal(shared.permutation(0, 9), shared.permutation(5, 9))


def test_wrappers_are_registered_and_build_their_base_from_a_mapping() -> None:
    data = build_dataset(
        "noisy_labels", base={"name": "upright_objects", "num_samples": 20, "image_size": 16}, fraction=0.5
    )
    assert len(data) == 20 and data.image_size == 16
