"""torchvision wrapper: error paths without network, and the converter on small in-memory and on-disk fakes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from transformrec.data import FashionMNIST, TorchvisionDataset, build_dataset, torchvision_dataset


class _TinyDataset:
    """Stands in for a torchvision data set: PIL images of mixed modes/sizes, labels in ``targets``."""

    classes = ["a", "b", "c"]

    def __init__(self) -> None:
        self.targets = [0, 2, 1, 2]
        self.images = [
            Image.new("RGB", (40, 30), (255, 0, 0)),
            Image.new("L", (28, 28), 128),
            Image.new("RGB", (20, 50), (0, 255, 0)),
            torch.full((3, 12, 12), 0.5),
        ]

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index):
        return self.images[index], self.targets[index]


def test_unknown_name_lists_the_supported_ones(tmp_path):
    with pytest.raises(ValueError, match=r"CIFAR10.*STL10"):
        torchvision_dataset("CIFAR11", root=str(tmp_path))


def test_unknown_split_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="unlabeled"):
        torchvision_dataset("STL10", root=str(tmp_path), split="validation")


def test_missing_data_without_download_says_to_pass_download_true(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        torchvision_dataset("CIFAR10", root=str(tmp_path), download=False)
    with pytest.raises(FileNotFoundError, match="download=True"):
        build_dataset("torchvision", dataset="STL10", root=str(tmp_path), split="test")


def test_imagenet_cannot_be_downloaded(tmp_path):
    with pytest.raises(ValueError, match="cannot be downloaded"):
        torchvision_dataset("ImageNet", root=str(tmp_path), download=True)


def test_converter_gives_contract_images_from_pil_and_tensors():
    dataset = TorchvisionDataset(_TinyDataset(), image_size=16, channels=3)
    assert dataset.labels.tolist() == [0, 2, 1, 2] and dataset.labels.dtype == torch.long
    assert dataset.class_names == ["a", "b", "c"] and dataset.num_classes == 3
    images = [dataset[i][0] for i in range(len(dataset))]
    assert all(image.shape == (3, 16, 16) for image in images)
    assert images[0][0].min() > 0.99 and images[0][1].max() < 0.01  # red stays red
    assert torch.allclose(images[1], torch.full((3, 16, 16), 128 / 255))  # grey replicated
    assert dataset[1][1] == 2 and "_TinyDataset" in repr(dataset)
    assert TorchvisionDataset(_TinyDataset(), image_size=8, channels=1)[0][0].shape == (1, 8, 8)


class _UnlabelledTinyDataset(_TinyDataset):
    """Like STL10: labels in a numpy ``labels`` array, -1 for unlabelled images, no ``classes``."""

    classes = []

    def __init__(self) -> None:
        super().__init__()
        self.labels = np.array([-1, -1, 0, 1])
        del self.targets

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index):
        return self.images[index], int(self.labels[index])


def test_labels_from_numpy_attribute_keep_unlabelled_minus_one():
    dataset = TorchvisionDataset(_UnlabelledTinyDataset(), image_size=8)
    assert dataset.labels.tolist() == [-1, -1, 0, 1]
    assert dataset.class_names == ["0", "1"] and dataset[0][1] == -1


def test_real_torchvision_class_reads_an_on_disk_fake_like_our_reader(tmp_path, idx_writer):
    raw = tmp_path / "FashionMNIST" / "raw"
    images = np.random.default_rng(1).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    labels = np.array([9, 0, 1, 2, 3, 4], dtype=np.uint8)
    for prefix in ("train", "t10k"):  # torchvision checks that both splits are present
        idx_writer(raw / f"{prefix}-images-idx3-ubyte", images)
        idx_writer(raw / f"{prefix}-labels-idx1-ubyte", labels)
    wrapped = torchvision_dataset("FashionMNIST", root=str(tmp_path), split="test", image_size=28, channels=1)
    ours = FashionMNIST(root=str(tmp_path), split="test", image_size=28)
    assert len(wrapped) == 6 and wrapped.class_names[0] == "T-shirt/top"
    assert torch.equal(wrapped.labels, ours.labels)
    for i in range(6):
        assert torch.equal(wrapped[i][0], ours[i][0]) and wrapped[i][1] == ours[i][1]
