"""FashionMNIST on a fake torchvision raw layout, and on the Debian package's files when installed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from transformrec.data import FashionMNIST, build_dataset
from transformrec.data.fashion_mnist import CLASS_NAMES, DEBIAN_DIR
from transformrec.data.idx_format import read_idx


def test_reads_torchvision_raw_layout_uncompressed_and_gzipped(fake_fashion_root):
    train = FashionMNIST(root=str(fake_fashion_root), split="train", image_size=28)
    test = FashionMNIST(root=str(fake_fashion_root), split="test", image_size=28)
    assert (len(train), len(test)) == (50, 20)
    assert test.images_path.name.endswith(".gz")
    raw = read_idx(fake_fashion_root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte")
    image, label = train[7]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert torch.allclose(image[0], raw[7].float() / 255)
    assert label == 7
    assert train.labels.dtype == torch.long and train.labels.tolist() == [i % 10 for i in range(50)]
    assert train.num_classes == 10 and train.class_names == CLASS_NAMES and train.channels == 1


def test_size_32_zero_pads_and_keeps_pixels_exact(fake_fashion_root):
    exact = FashionMNIST(root=str(fake_fashion_root), image_size=28)[3][0]
    padded = FashionMNIST(root=str(fake_fashion_root), image_size=32)[3][0]
    assert padded.shape == (1, 32, 32)
    assert torch.equal(padded[:, 2:30, 2:30], exact)
    assert padded[:, :2].abs().sum() == 0 and padded[:, :, 30:].abs().sum() == 0


def test_other_sizes_resize_and_three_channels_replicate(fake_fashion_root):
    dataset = FashionMNIST(root=str(fake_fashion_root), image_size=64, channels=3)
    image, _ = dataset[0]
    assert image.shape == (3, 64, 64)
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert torch.equal(image[0], image[1]) and torch.equal(image[1], image[2])
    assert dataset.image_size == 64 and dataset.channels == 3


def test_limit_keeps_a_seeded_subset(fake_fashion_root):
    root = str(fake_fashion_root)
    first, again = FashionMNIST(root=root, limit=10, seed=1), FashionMNIST(root=root, limit=10, seed=1)
    other = FashionMNIST(root=root, limit=10, seed=2)
    assert len(first) == 10 and torch.equal(first.images, again.images)
    assert not torch.equal(first.images, other.images)
    assert "10 of 50" in repr(first)


def test_missing_files_name_the_paths_and_the_debian_package(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist") as info:
        FashionMNIST(root=str(tmp_path))
    assert str(tmp_path / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz") in str(info.value)


def test_bad_arguments_are_rejected(fake_fashion_root):
    with pytest.raises(ValueError, match="split"):
        FashionMNIST(root=str(fake_fashion_root), split="validation")
    with pytest.raises(ValueError, match="channels"):
        FashionMNIST(root=str(fake_fashion_root), channels=2)


def test_built_by_name_through_the_registry(fake_fashion_root):
    dataset = build_dataset("fashion_mnist", root=str(fake_fashion_root), split="test")
    assert isinstance(dataset, FashionMNIST) and len(dataset) == 20


@pytest.mark.skipif(not Path(DEBIAN_DIR).is_dir(), reason="Debian package dataset-fashion-mnist not installed")
def test_debian_package_files_have_the_published_counts():
    train, test = FashionMNIST(split="train"), FashionMNIST(split="test")
    assert (len(train), len(test)) == (60000, 10000)
    assert torch.equal(torch.bincount(train.labels, minlength=10), torch.full((10,), 6000))
    assert torch.equal(torch.bincount(test.labels, minlength=10), torch.full((10,), 1000))
    image, label = train[0]
    assert image.shape == (1, 32, 32) and 0 <= label < 10 and image.max() > 0.5


@pytest.mark.parametrize("size", [28, 32, 20])
def test_stacked_equals_the_per_item_images(size):
    data = FashionMNIST(split="test", image_size=size)
    stacked = data.stacked(5)
    assert stacked.shape == (5, 1, size, size)
    assert torch.allclose(stacked, torch.stack([data[i][0] for i in range(5)]), atol=1e-6)
