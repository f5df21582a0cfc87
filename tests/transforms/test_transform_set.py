"""TransformSet label spaces, eq. 4.1 'all' mode, 'sample' mode and extra heads."""

import pytest
import torch

from transformrec.functional.rotation import rotate90
from transformrec.transforms import IGNORE_INDEX, Identity, Rotation, Transform, TransformSet, Warp


def test_label_space_is_the_concatenation_of_declared_classes():
    ts = TransformSet([Identity(), Rotation(), Warp()])
    assert ts.heads == {"transform": ["identity", "rot90", "rot180", "rot270", "warp"]}
    assert ts.num_classes == {"transform": 5}


def test_all_mode_puts_every_image_under_every_class():
    images = torch.rand(3, 1, 8, 8)
    ts = TransformSet([Identity(), Rotation()], mode="all")
    out, targets = ts(images, torch.Generator().manual_seed(0))
    assert out.shape == (12, 1, 8, 8)
    assert targets["transform"].tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    for k in range(4):
        torch.testing.assert_close(out[3 * k : 3 * k + 3], rotate90(images, torch.full((3,), k)))


def test_sample_mode_keeps_batch_size_and_labels_match_content():
    images = torch.rand(64, 1, 8, 8)
    ts = TransformSet([Identity(), Rotation()], mode="sample")
    out, targets = ts(images, torch.Generator().manual_seed(0))
    labels = targets["transform"]
    assert out.shape == images.shape and set(labels.tolist()) == {0, 1, 2, 3}
    torch.testing.assert_close(out, rotate90(images, labels))


def test_same_seed_replays_the_same_batch():
    images = torch.rand(8, 3, 16, 16)
    ts = TransformSet([Identity(), Rotation(), Warp()], mode="sample")
    a = ts(images, torch.Generator().manual_seed(7))
    b = ts(images, torch.Generator().manual_seed(7))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1]["transform"], b[1]["transform"])


class _Speed(Transform):
    """A toy transform with a second head, as temporal samplers will declare (ch. 5)."""

    def variant_names(self):
        return ("fast",)

    def extra_heads(self):
        return {"speed": ("x1", "x2")}

    def apply(self, batch, variant, generator=None):
        return batch * 2, {"speed": torch.ones(batch.shape[0], dtype=torch.long)}


def test_extra_heads_get_targets_only_on_their_samples():
    ts = TransformSet([Identity(), _Speed()], mode="all")
    assert ts.heads == {"transform": ["identity", "fast"], "speed": ["x1", "x2"]}
    _, targets = ts(torch.rand(2, 1, 4, 4))
    assert targets["speed"].tolist() == [IGNORE_INDEX, IGNORE_INDEX, 1, 1]


def test_duplicate_class_names_and_bad_mode_are_rejected():
    with pytest.raises(ValueError, match="declared twice"):
        TransformSet([Identity(), Identity()])
    with pytest.raises(ValueError, match="mode"):
        TransformSet([Identity()], mode="every")


def test_registered_names_build_the_same_set_as_objects_and_typos_name_the_closest():
    from transformrec.registry import UnknownNameError

    by_name = TransformSet(["identity", "rotation", "warp"])
    assert by_name.heads == TransformSet([Identity(), Rotation(), Warp()]).heads
    assert [type(t) for t in by_name.transforms] == [Identity, Rotation, Warp]
    with pytest.raises(UnknownNameError, match="unknown transform 'rotaton'.*Did you mean 'rotation'"):
        TransformSet(["identity", "rotaton"])
    with pytest.raises(TypeError, match=r"transforms\[1\]: expected a Transform or a registered name, got int"):
        TransformSet(["identity", 3])
