"""The audit on synthetic data with known answers: a tiled artifact is local, symmetry is ambiguous,
rotations of upright scenes need the whole image."""

import pytest
import torch
from torch.utils.data import TensorDataset

from transformrec.audit import audit_transform_set
from transformrec.audit.report import pairwise_separability
from transformrec.transforms import Identity, Rotation, Transform, TransformSet

FAST = dict(num_images=128, steps=300, batch_size=32)


def _noise(n=128, size=16, seed=0):
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed)) * 0.5


class DotGrid(Transform):
    """Adds a bright dot every 4 pixels: an artifact present in every 4×4 patch."""

    def variant_names(self):
        return ("dots",)

    def apply(self, batch, variant, generator=None):
        out = batch.clone()
        out[..., ::4, ::4] += 0.8
        return out, {}


def test_constant_local_artifact_is_flagged_as_a_shortcut():
    images = _noise()
    report = audit_transform_set(TransformSet([Identity(), DotGrid()]), TensorDataset(images, images), **FAST)
    assert report.patch_size == 4  # a quarter of the side by default
    assert report.locally_recognisable == ["dots"]
    assert report.local_recall[1] >= 0.9 and report.confusable_pairs == []
    assert "SHORTCUT RISK: dots" in report.to_table()


def test_identity_and_rot180_of_symmetric_images_are_flagged_as_ambiguous():
    base = _noise()
    images = (base + base.rot90(2, dims=(-2, -1))) / 2  # invariant under a half turn
    report = audit_transform_set(TransformSet([Identity(), Rotation((180,))]), TensorDataset(images, images), **FAST)
    assert report.confusable_pairs == [["identity", "rot180"]]
    assert report.global_pairwise[0][1] < 0.75
    assert "AMBIGUOUS: identity ~ rot180" in report.to_table()


def test_rotations_of_upright_scenes_need_the_whole_image():
    images = _noise()
    images[:, :, :2, :] = 1.0  # a bright sky: the orientation is visible globally, rarely in a patch
    report = audit_transform_set(TransformSet([Identity(), Rotation()]), TensorDataset(images, images), **FAST)
    local, whole = sum(report.local_recall) / 4, sum(report.global_recall) / 4
    assert whole >= 0.9
    assert local <= whole - 0.2
    assert report.locally_recognisable == [] and report.confusable_pairs == []


def test_pairwise_separability_reads_only_the_two_logits():
    logits = torch.tensor([[5.0, 1.0, 0.0], [0.0, 1.0, 9.0], [2.0, 3.0, 0.0]])
    labels = torch.tensor([0, 1, 2])
    table = pairwise_separability(logits, labels, 3)
    assert table[0][1] == table[1][0] == 1.0  # sample 1 is wrong overall (says 2) but right between 0 and 1
    assert table[1][2] == 0.0 and table[0][0] is None  # both samples side with the other class


def test_unknown_head_is_a_clear_error():
    images = _noise(8)
    with pytest.raises(KeyError, match="unknown head 'motion'"):
        audit_transform_set(TransformSet([Identity(), Rotation()]), TensorDataset(images, images), head="motion")
