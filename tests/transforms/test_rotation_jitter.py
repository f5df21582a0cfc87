"""Rotation jitter after transforming (the authors' LCI code), checked against closed-form image moments."""

import math

import pytest
import torch

from tests.transforms.classifier_stub import DictClassifier
from transformrec.config import ConfigError, load_config
from transformrec.config.build import build_transform_set
from transformrec.transforms import build_transform
from transformrec.transforms.classifier_feedback import MixedBatchFeedback
from transformrec.transforms.rotation_jitter import RotationJitter
from transformrec.transforms.transform_set import TransformSet

SIDE = 41


def _bar(count: int) -> torch.Tensor:
    """A thin horizontal bar through the centre on black: its orientation is 0°."""
    images = torch.zeros(count, 1, SIDE, SIDE)
    images[:, :, SIDE // 2 - 1 : SIDE // 2 + 2, 6:-6] = 1.0
    return images


def _orientation_degrees(image: torch.Tensor) -> float:
    """Orientation of an image's intensity from its central second moments: ½·atan2(2μ11, μ20 − μ02)."""
    weights = image[0].double()
    ys, xs = torch.meshgrid(
        torch.arange(SIDE, dtype=torch.float64), torch.arange(SIDE, dtype=torch.float64), indexing="ij"
    )
    total = weights.sum()
    cx, cy = (weights * xs).sum() / total, (weights * ys).sum() / total
    mu20 = (weights * (xs - cx) ** 2).sum()
    mu02 = (weights * (ys - cy) ** 2).sum()
    mu11 = (weights * (xs - cx) * (ys - cy)).sum()
    return math.degrees(0.5 * math.atan2(2 * float(mu11), float(mu20 - mu02)))


def test_chosen_samples_turn_by_at_most_the_bound_and_other_classes_stay_exact():
    jitter = RotationJitter(degrees=10.0, share=1.0, classes=["identity"])
    images = _bar(64)
    names = ["identity"] * 32 + ["rot90"] * 32
    out = jitter(images, names, torch.Generator().manual_seed(0))
    angles = [_orientation_degrees(out[i]) for i in range(32)]
    assert max(abs(a) for a in angles) <= 10.0 + 0.5
    assert max(angles) > 5 and min(angles) < -5  # drawn over the whole range, both ways
    assert torch.equal(out[32:], images[32:])


def test_the_share_of_rotated_samples_follows_the_share_within_binomial_noise():
    jitter = RotationJitter(degrees=12.6, share=0.5)
    images = _bar(2000)
    out = jitter(images, ["lci"] * 2000, torch.Generator().manual_seed(1))
    changed = (out - images).abs().flatten(1).amax(1) > 1e-6
    assert abs(float(changed.float().mean()) - 0.5) < 4 * math.sqrt(0.25 / 2000)


def test_a_seed_replays_the_jitter_and_share_zero_changes_nothing():
    images = _bar(8)
    jitter = RotationJitter(degrees=12.6, share=0.5, classes=["identity"])
    first = jitter(images, ["identity"] * 8, torch.Generator().manual_seed(3))
    again = jitter(images, ["identity"] * 8, torch.Generator().manual_seed(3))
    assert torch.equal(first, again)
    assert torch.equal(RotationJitter(share=0.0)(images, ["identity"] * 8), images)


def test_a_transform_set_jitters_only_the_named_classes():
    task = TransformSet(
        [build_transform("identity"), build_transform("rotation")],
        rotation_jitter=RotationJitter(degrees=10.0, share=1.0, classes=["identity"]),
    )
    images = _bar(4)
    plain = TransformSet([build_transform("identity"), build_transform("rotation")])
    out, targets = task(images, torch.Generator().manual_seed(0))
    reference, _ = plain(images, torch.Generator().manual_seed(0))
    identity = targets["transform"] == task.heads["transform"].index("identity")
    assert not torch.allclose(out[identity], reference[identity])
    assert torch.equal(out[~identity], reference[~identity])  # 90° turns stay exact


def test_a_jitter_naming_none_of_the_classes_is_refused():
    with pytest.raises(ValueError, match="rotation_jitter classes"):
        TransformSet([build_transform("rotation")], rotation_jitter=RotationJitter(classes=["lci"]))
    with pytest.raises(ValueError, match="degrees"):
        RotationJitter(degrees=90)


def test_the_config_field_builds_the_jitter_and_bad_values_name_it(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data: {name: procedural, num_samples: 64, image_size: 32}\ntransforms: [identity, warp]\n")
    config = load_config(path, ["train.rotation_jitter={degrees: 8}"])
    task = build_transform_set(config)
    assert task.rotation_jitter.degrees == 8 and task.rotation_jitter.classes == ("identity", "lci", "warp")
    with pytest.raises(ConfigError, match="train.rotation_jitter.share"):
        load_config(path, ["train.rotation_jitter={share: 2}"])
    with pytest.raises(ConfigError, match="train.rotation_jitter"):
        build_transform_set(load_config(path, ["train.rotation_jitter={classes: [rot90]}"]))


def test_the_feedback_jitters_the_fresh_outputs_differentiably():
    torch.manual_seed(0)
    classifier = DictClassifier(2)
    inputs, targets = _bar(8), {"transform": torch.tensor([0] * 4 + [1] * 4)}
    fresh = _bar(4).requires_grad_(True)
    names = {"transform": ["identity", "lci"]}
    always = RotationJitter(degrees=12.6, share=1.0, classes=["lci"])
    jittered = MixedBatchFeedback(classifier, inputs, targets, always, names, torch.Generator().manual_seed(0))
    loss = jittered.loss(fresh, "transform", 1)
    loss.backward()
    assert fresh.grad is not None and fresh.grad.abs().sum() > 0
    never = RotationJitter(share=0.0, classes=["lci"])
    plain = MixedBatchFeedback(classifier, inputs, targets).loss(fresh, "transform", 1)
    unjittered = MixedBatchFeedback(classifier, inputs, targets, never, names).loss(fresh, "transform", 1)
    assert torch.allclose(plain, unjittered)
    assert not torch.allclose(plain, loss)
