"""ImageFolderDataset: class and flat layouts, corrupt files skipped and counted, sizing, EXIF orientation."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from transformrec.data import ImageFolderDataset, build_dataset, to_contract_image


def _save(path, size=(40, 30), colour=(200, 30, 30), **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, **kwargs)
    return path


@pytest.fixture
def class_root(tmp_path):
    _save(tmp_path / "cat" / "a.png")
    _save(tmp_path / "cat" / "nested" / "b.jpg", size=(30, 80))
    _save(tmp_path / "dog" / "c.bmp", colour=(10, 200, 10))
    _save(tmp_path / "dog" / "d.webp", colour=(10, 10, 200))
    (tmp_path / "dog" / "broken.jpg").write_bytes(np.random.default_rng(0).bytes(500))
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    return tmp_path


def test_class_layout_skips_and_counts_corrupt_files(class_root, caplog):
    with caplog.at_level(logging.WARNING):
        dataset = ImageFolderDataset(str(class_root), image_size=24)
    assert dataset.class_names == ["cat", "dog"] and dataset.num_classes == 2
    assert len(dataset) == 4 and dataset.labels.tolist() == [0, 0, 1, 1]
    assert dataset.skipped == [str(class_root / "dog" / "broken.jpg")]
    assert "skipped 1" in caplog.text
    assert "skipped=1" in repr(dataset)
    for i in range(len(dataset)):
        image, label = dataset[i]
        assert image.shape == (3, 24, 24) and image.min() >= 0 and image.max() <= 1
        assert label == dataset.labels[i]


def test_flat_folder_is_unlabelled(tmp_path):
    _save(tmp_path / "x.png")
    _save(tmp_path / "y.jpeg")
    dataset = ImageFolderDataset(str(tmp_path), image_size=16, channels=1)
    assert len(dataset) == 2 and dataset.labels.tolist() == [-1, -1]
    assert dataset.num_classes == 0 and dataset.class_names == []
    assert dataset[0][0].shape == (1, 16, 16) and dataset[1][1] == -1


def test_missing_or_empty_root_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        ImageFolderDataset(str(tmp_path / "nowhere"))
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(ValueError, match="empty"):
        ImageFolderDataset(str(tmp_path / "empty"))


def test_resize_shorter_side_then_centre_crop():
    array = np.zeros((20, 60, 3), dtype=np.uint8)
    array[:, 25:35] = 255  # white middle sixth of a wide image
    image = to_contract_image(Image.fromarray(array), image_size=10, channels=3)
    assert image.shape == (3, 10, 10)
    assert image[:, :, 4:6].min() > 0.9 and image[:, :, 0].max() < 0.15 and image[:, :, -1].max() < 0.15


def test_transparent_pixels_become_black_not_alpha_noise():
    rgba = Image.new("RGBA", (8, 8), (255, 255, 255, 0))
    assert to_contract_image(rgba, 8, 3).max() == 0


def test_exif_orientation_is_applied(tmp_path):
    array = np.zeros((32, 32, 3), dtype=np.uint8)
    array[:16] = (255, 0, 0)  # red on top, blue at the bottom as stored
    array[16:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 3  # "rotate 180° to display"
    path = tmp_path / "only" / "photo.jpg"
    path.parent.mkdir()
    Image.fromarray(array).save(path, exif=exif, quality=95)
    image, _ = ImageFolderDataset(str(tmp_path), image_size=32)[0]
    assert image[2, :8].mean() > 0.8 and image[0, -8:].mean() > 0.8  # displayed: blue on top, red at the bottom


def test_built_by_name_through_the_registry(class_root):
    dataset = build_dataset("image_folder", root=str(class_root), image_size=8)
    assert isinstance(dataset, ImageFolderDataset) and dataset[0][0].shape == (3, 8, 8)
    assert torch.equal(dataset.labels, torch.tensor([0, 0, 1, 1]))


def test_a_truncated_jpeg_that_passes_the_header_check_is_skipped_when_read_and_counted(tmp_path, caplog):
    rng = np.random.default_rng(0)
    for name in "abc":  # noise: the pixel data, not the header, is most of the file
        path = tmp_path / "cls" / f"{name}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path, quality=95)
    whole = (tmp_path / "cls" / "b.jpg").read_bytes()
    (tmp_path / "cls" / "b.jpg").write_bytes(whole[: len(whole) // 2])  # header intact, pixels cut off
    dataset = ImageFolderDataset(str(tmp_path), image_size=16)
    assert len(dataset) == 3 and dataset.skipped == []  # the header check cannot see it
    with caplog.at_level(logging.WARNING):
        batch, labels = next(iter(torch.utils.data.DataLoader(dataset, batch_size=3)))
    assert batch.shape == (3, 3, 16, 16) and labels.tolist() == [0, 0, 0]
    assert torch.equal(batch[1], dataset[2][0])  # item 1 is replaced by the next decodable item, every time
    assert dataset.skipped == [str(tmp_path / "cls" / "b.jpg")] and list(dataset.undecodable) == dataset.skipped
    assert "truncated" in dataset.undecodable[dataset.skipped[0]] and "skipping" in caplog.text


@pytest.mark.parametrize(
    ("pixels", "mode", "suffix"),
    [
        (np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16), None, ".png"),  # 16-bit PNG
        (np.linspace(0, 1, 64 * 64).reshape(64, 64).astype(np.float32), "F", ".tif"),  # float in [0, 1]
        (np.linspace(0, 1000, 64 * 64).reshape(64, 64).astype(np.float32), "F", ".tif"),  # float in [0, 1000]
    ],
    ids=["16-bit-png", "float-tiff-unit-range", "float-tiff-other-range"],
)
def test_high_depth_images_are_scaled_by_their_real_range(tmp_path, pixels, mode, suffix):
    path = tmp_path / f"ramp{suffix}"
    Image.fromarray(pixels, mode=mode).save(path)
    with Image.open(path) as image:
        tensor = to_contract_image(image, 64, 1)
    # a ramp over the whole range: every row reads its share of it (the hand-made image's own values)
    expected = (pixels.astype(np.float64) - pixels.min()) / (pixels.max() - pixels.min())
    np.testing.assert_allclose(tensor[0].numpy(), expected, atol=1 / 255)
    assert 0.49 < float(tensor.mean()) < 0.51  # PIL's own conversion gave 0.975 (16-bit) and 0 (float)
