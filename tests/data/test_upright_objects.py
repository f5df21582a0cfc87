"""The embedded default image set: deterministic, balanced, disjoint splits, no rotated twins,
and an orientation that only whole images reveal (8×8 patches do not)."""

import pytest
import torch
import torch.nn.functional as F

from transformrec.audit import audit_transform_set
from transformrec.data import build_dataset
from transformrec.data.fashion_mnist import DEBIAN_DIR
from transformrec.data.noise_scenes import object_affine
from transformrec.data.upright_silhouettes import CLASS_NAMES, silhouette_masks
from transformrec.transforms import Identity, Rotation, TransformSet


def _data(**kwargs):
    return build_dataset("upright_objects", **{"num_samples": 60, **kwargs})


def test_items_are_a_function_of_seed_split_and_index():
    first, second = _data(), _data(cache=False)
    for index in (0, 7, 59):
        assert torch.equal(first[index][0], second[index][0])
    batch, labels = first.render_batch([59, 7, 0])
    assert torch.equal(batch[1], first[7][0]) and labels.tolist() == [first[59][1], first[7][1], first[0][1]]
    other_seed = _data(seed=1)
    assert not torch.equal(first[3][0], other_seed[3][0])


def test_images_are_uint8_levels_in_the_unit_range_with_the_asked_shape():
    image, _ = _data(image_size=64, channels=1)[5]
    assert image.shape == (1, 64, 64) and image.dtype == torch.float32
    assert image.min() >= 0 and image.max() <= 1
    assert torch.equal((image * 255).round(), image * 255)


def test_the_same_item_is_the_same_scene_at_32_and_64_px():
    small, large = _data(image_size=32), _data(image_size=64)
    same, shifted = [], []
    for index in range(0, 40):
        down = F.avg_pool2d(large[index][0].unsqueeze(0), 2)[0]
        same.append((down - small[index][0]).abs().mean())
        shifted.append((down - small[(index + 1) % 40][0]).abs().mean())
    assert torch.stack(same).mean() < 0.25 * torch.stack(shifted).mean()


def test_classes_are_exactly_balanced_on_every_multiple_of_ten():
    data = _data(num_samples=1230)
    assert torch.bincount(data.labels, minlength=10).tolist() == [123] * 10
    assert data.num_classes == len(data.class_names) == 10


def test_splits_and_seeds_share_no_scene():
    def fingerprints(dataset):
        images, _ = dataset.render_batch(range(len(dataset)))
        return {hash(image.numpy().tobytes()) for image in images}

    train = fingerprints(_data(num_samples=300))
    for other in (_data(num_samples=300, split="test"), _data(num_samples=300, split="val"), _data(seed=5)):
        assert train.isdisjoint(fingerprints(other))


def _centred(mask):
    """Shift a mask so that its centroid sits on the image centre (IoU then compares layouts, not offsets)."""
    size = mask.shape[-1]
    rows, cols = torch.meshgrid(torch.arange(size * 1.0), torch.arange(size * 1.0), indexing="ij")
    cy, cx = (mask * rows).sum() / mask.sum(), (mask * cols).sum() / mask.sum()
    return torch.roll(mask, (round((size - 1) / 2 - cy.item()), round((size - 1) / 2 - cx.item())), (0, 1))


def _iou(a, b):
    return float(torch.minimum(a, b).sum() / torch.maximum(a, b).sum())


def test_no_class_is_close_to_a_rotation_of_itself_or_of_another_class():
    masks = [_centred(mask[0]) for mask in silhouette_masks(64)]
    worst = 0.0
    for i, a in enumerate(masks):
        for j, b in enumerate(masks):
            for mirrored in (b, b.flip(-1)):
                for quarter_turns in (1, 2, 3):
                    iou = _iou(a, torch.rot90(mirrored, quarter_turns, (0, 1)))
                    assert iou < 0.7, (CLASS_NAMES[i], CLASS_NAMES[j], 90 * quarter_turns, iou)
                    worst = max(worst, iou)
    # The check can fail: a square silhouette is its own rotated twin.
    square = _centred(F.pad(torch.ones(32, 32), (16, 16, 16, 16)))
    assert _iou(square, torch.rot90(square, 1, (0, 1))) > 0.99 > worst


def test_object_affine_maps_the_object_centre_to_the_template_centre():
    params = torch.rand(16, 24, generator=torch.Generator().manual_seed(0))
    theta = object_affine(params)
    # Solve theta · [p, 1] = 0 for the output point p that lands on the template's centre.
    centre = torch.linalg.solve(theta[:, :, :2], -theta[:, :, 2:])[:, :, 0]
    scale = 0.38 + 0.24 * params[:, 2]
    reach = 0.9 - scale
    expected = torch.stack([(params[:, 0] - 0.5) * 2 * reach, (params[:, 1] - 0.5) * 2 * reach], 1)
    assert torch.allclose(centre, expected, atol=1e-5)
    # Its linear part is a rotation times a scaling: |det| = 1 / (half-side²) for any aspect.
    assert torch.allclose(torch.linalg.det(theta[:, :, :2]).abs(), 1 / scale**2, rtol=1e-4)


@pytest.mark.slow
def test_rotation_is_recognisable_from_whole_images_but_not_from_8px_patches():
    """The audit of sec. 4.3 on 800 images: 8×8 patches stay near chance, whole images do not.

    A patch can still see a part's edge (a vertical stem turned horizontal), so pairs 90° apart are
    the least local-free; the bound is on the mean over pairs, with a looser cap on each pair.
    """
    data = _data(num_samples=800)
    report = audit_transform_set(
        TransformSet([Identity(), Rotation()]), data, num_images=800, patch_size=8, steps=1500, batch_size=64
    )
    pairs = [(i, j) for i in range(4) for j in range(4) if i < j]
    local = torch.tensor([report.local_pairwise[i][j] for i, j in pairs])
    whole = torch.tensor([report.global_pairwise[i][j] for i, j in pairs])
    assert local.mean() < 0.6 and local.max() < 0.65, report.to_table()
    assert whole.mean() > 0.7 and bool((whole > local).all()), report.to_table()
    assert report.locally_recognisable == [], report.to_table()


@pytest.mark.slow
def test_the_old_procedural_scenes_give_rotation_away_in_8px_patches():
    """The contrast that made ``upright_objects`` the default: sky and ground reveal "up" locally."""
    data = build_dataset("procedural", num_samples=300)
    report = audit_transform_set(
        TransformSet([Identity(), Rotation()]), data, num_images=300, patch_size=8, steps=500, batch_size=64
    )
    local = [report.local_pairwise[i][j] for i in range(4) for j in range(4) if i < j]
    assert sum(local) / len(local) > 0.75, report.to_table()


@pytest.mark.skipif(not __import__("os").path.isdir(DEBIAN_DIR), reason="dataset-fashion-mnist not installed")
def test_fashion_on_noise_keeps_fashion_mnist_labels_and_refuses_val():
    from transformrec.data import FashionMNIST

    data = build_dataset("fashion_on_noise", num_samples=50, split="test")
    assert torch.equal(data.labels, FashionMNIST(split="test").labels[:50])
    image, label = data[3]
    assert image.shape == (3, 32, 32) and label == int(data.labels[3])
    with pytest.raises(ValueError, match="no val split"):
        build_dataset("fashion_on_noise", split="val")
