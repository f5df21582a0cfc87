"""The audit's shortcut threshold is the benchmark gates' 0.8, and its picture is written and labelled."""

import matplotlib.image

from benchmarks.lci_tables import PATCH_GATE
from transformrec.audit import SHORTCUT_THRESHOLD, AuditReport, plot_audit


def _report(local_recall):
    classes = ["identity", "rot90", "rot180"]
    pairwise = [[None, 0.9, 0.6], [0.9, None, 0.95], [0.6, 0.95, None]]
    return AuditReport(
        head="transform",
        classes=classes,
        image_size=[3, 32, 32],
        patch_size=8,
        num_images=64,
        local_recall=local_recall,
        global_recall=[0.9, 0.95, 0.7],
        local_confusion=[[0] * 3] * 3,
        global_confusion=[[0] * 3] * 3,
        local_pairwise=pairwise,
        global_pairwise=pairwise,
        local_threshold=SHORTCUT_THRESHOLD,
        confusable_threshold=0.75,
    )


def test_one_threshold_for_the_audit_and_the_benchmark_gate():
    assert SHORTCUT_THRESHOLD == PATCH_GATE == 0.8


def test_a_class_recognised_from_patches_at_085_is_flagged():
    """At the former 0.9 cut-off, rotations recognised from patches at 0.85-0.90 went unflagged."""
    report = _report([0.3, 0.85, 0.79])
    assert report.locally_recognisable == ["rot90"]
    assert report.confusable_pairs == [["identity", "rot180"]]


def test_the_picture_is_written(tmp_path):
    path = plot_audit(_report([0.3, 0.85, 0.79]), tmp_path / "audit.png")
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 600  # two panels side by side
    assert pixels[..., :3].std() > 0.1  # not blank
