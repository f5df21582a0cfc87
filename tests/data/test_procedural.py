"""ProceduralShapes: reproducible per index, balanced, splits disjoint, classes visibly distinct, upright scenes."""

from __future__ import annotations

import itertools

import pytest
import torch

from transformrec.data import ProceduralShapes, build_dataset
from transformrec.data.procedural import CLASS_NAMES, item_params, render_params


def test_items_are_identical_across_instances_and_access_orders():
    first, second = ProceduralShapes(num_samples=600, seed=3), ProceduralShapes(num_samples=600, seed=3)
    second_items = {i: second[i] for i in (599, 300, 0)}  # different order, different blocks rendered first
    for i, (image, label) in second_items.items():
        other_image, other_label = first[i]
        assert torch.equal(image, other_image) and label == other_label


def test_uncached_and_batched_rendering_agree_with_items():
    cached, uncached = ProceduralShapes(num_samples=40), ProceduralShapes(num_samples=40, cache=False)
    batch, labels = cached.render_batch([5, 17, 39])
    for row, i in enumerate((5, 17, 39)):
        image, label = cached[i]
        assert torch.allclose(uncached[i][0], image, atol=1.01 / 255)
        assert torch.allclose(batch[row], image, atol=1.01 / 255)
        assert int(labels[row]) == label == uncached[i][1]


def test_seed_changes_the_data():
    assert not torch.equal(ProceduralShapes(num_samples=5, seed=0)[0][0], ProceduralShapes(num_samples=5, seed=1)[0][0])


@pytest.mark.parametrize(("channels", "size"), [(3, 32), (1, 48)])
def test_images_are_float_in_unit_range_with_contract_attributes(channels, size):
    dataset = ProceduralShapes(num_samples=300, image_size=size, channels=channels)
    image, label = dataset[123]
    assert image.shape == (channels, size, size) and image.dtype == torch.float32
    assert image.min() >= 0.0 and image.max() <= 1.0 and image.std() > 0.05
    assert isinstance(label, int) and 0 <= label < dataset.num_classes
    assert dataset.num_classes == len(dataset.class_names) == len(CLASS_NAMES)
    assert dataset.image_size == size and dataset.channels == channels and len(dataset) == 300
    assert "ProceduralShapes" in repr(dataset) and "num_samples=300" in repr(dataset)


def test_labels_property_is_long_matches_items_and_is_roughly_uniform():
    dataset = ProceduralShapes(num_samples=3000)
    assert dataset.labels.dtype == torch.long and dataset.labels.shape == (3000,)
    assert [dataset[i][1] for i in range(0, 3000, 97)] == dataset.labels[::97].tolist()
    counts = torch.bincount(dataset.labels, minlength=dataset.num_classes)
    assert counts.min() > 200 and counts.max() < 400  # expected 300 each, sd ~16


def test_train_and_test_splits_are_disjoint():
    train = ProceduralShapes(num_samples=256, split="train")
    test = ProceduralShapes(num_samples=256, split="test")
    train_images = torch.stack([train[i][0] for i in range(len(train))]).flatten(1)
    test_images = torch.stack([test[i][0] for i in range(len(test))]).flatten(1)
    closest = torch.cdist(test_images, train_images).min()
    assert closest > 1.0


def test_classes_differ_when_everything_but_the_shape_is_equal():
    params = item_params(0, "train", [7]).repeat(len(CLASS_NAMES), 1)
    params[:, 0] = (torch.arange(len(CLASS_NAMES)) + 0.5) / len(CLASS_NAMES)
    params[:, 3] = 1.0  # largest shape, so outlines span many pixels
    images, labels = render_params(params, image_size=32)
    assert labels.tolist() == list(range(len(CLASS_NAMES)))
    images = images.float() / 255
    for a, b in itertools.combinations(range(len(CLASS_NAMES)), 2):
        changed = (images[a] - images[b]).abs().amax(0) > 0.1
        assert changed.sum() >= 8, f"{CLASS_NAMES[a]} vs {CLASS_NAMES[b]} differ in only {changed.sum()} pixels"


def test_scenes_are_upright_lighter_at_the_top_than_at_the_bottom():
    images, _ = ProceduralShapes(num_samples=256).render_batch(range(256))
    top, bottom = images[:, :, :6].mean(dim=(1, 2, 3)), images[:, :, -6:].mean(dim=(1, 2, 3))
    assert (top > bottom).float().mean() > 0.95


def test_iteration_renders_blocks_not_single_images():
    dataset = ProceduralShapes(num_samples=1000)
    for i in range(len(dataset)):
        dataset[i]
    assert len(dataset._blocks) == 4  # 256-index blocks, each rendered once by vectorised ops


def test_bad_arguments_and_indices_are_rejected():
    with pytest.raises(ValueError, match="split"):
        ProceduralShapes(split="dev")
    with pytest.raises(IndexError):
        ProceduralShapes(num_samples=3)[3]
    assert torch.equal(ProceduralShapes(num_samples=3)[-1][0], ProceduralShapes(num_samples=3)[2][0])


def test_built_by_name_through_the_registry():
    dataset = build_dataset("procedural", num_samples=10, image_size=16, split="test")
    assert isinstance(dataset, ProceduralShapes) and dataset[0][0].shape == (3, 16, 16)
