"""The studio's data gates measure what they say, on a tiny rendered studio with known backgrounds."""

import pytest
import torch

from benchmarks.multiview_gates import background_residue, gate_lines, mirror_detection, pose_difference
from transformrec.data.multiview_folder import MultiViewFolder
from transformrec.data.procedural_multiview import background_images, write_procedural_multiview


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    root = tmp_path_factory.mktemp("studio")
    write_procedural_multiview(root, ("S1",), ("squat", "turn"), num_frames=12, size=24, repetitions=1)
    return root


def test_residue_is_zero_against_the_true_background_and_counts_a_wrong_median_block(studio):
    raw = MultiViewFolder(studio, background="keep")
    truth = background_images(24)
    raw.median = lambda subject, camera: truth[int(camera.removeprefix("cam"))]
    exact = background_residue(raw, 0.1, seed=0, stride=3)
    assert exact["pixels_per_frame"] == 0 and exact["figure_pixels_per_frame"] > 20

    def wrong_corner(subject, camera):  # a 3x3 block in the top-left corner, where the figure never is
        median = truth[int(camera.removeprefix("cam"))].clone()
        median[:, :3, :3] = (median[:, :3, :3] + 0.5) % 1.0
        return median

    raw.median = wrong_corner
    assert background_residue(raw, 0.1, seed=0, stride=3)["pixels_per_frame"] == pytest.approx(9.0)


def test_pose_difference_counts_pairs_of_a_still_figure_as_close(studio):
    folder = MultiViewFolder(studio, background="keep")
    for seq in folder.sequences:
        seq.joints = seq.joints[:1].expand_as(seq.joints).clone()  # one pose held: every pair is 0 mm apart
    still = pose_difference(folder, seed=0, pairs=50)
    assert still["share_below_20mm"] == 1.0 and still["median_mm"] == pytest.approx(0.0, abs=1e-9)


def test_gate_lines_mark_exactly_the_failing_gates():
    gates = {
        "mirror_detection": {"train": 0.9, "held_out": 0.6, "steps": 10},
        "residue": {
            "pixels_per_frame": 2.0,
            "share_frames_over_20": 0.0,
            "figure_pixels_per_frame": 300,
            "hole_share": 0.1,
        },
        "pose_difference": {"share_below_20mm": 0.05, "median_mm": 90.0},
        "pose_oracle": {"train": 0.9, "held_out": 0.8, "steps": 20},
        "time_cue": {"bayes_accuracy": 0.501},
    }
    lines = gate_lines(gates)
    assert "✗" in lines[0] and all("✗" not in line for line in lines[1:])


def test_mirror_detection_reads_an_asymmetric_cue_and_nothing_from_symmetric_frames():
    """The gate is not blind: frames with a bright bar on their left are told from their mirror images;
    left-right symmetric frames cannot be (a frame and its mirror are the same image), so exactly 0.5."""
    generator = torch.Generator().manual_seed(0)
    cue = 0.2 * torch.rand(96, 3, 16, 16, generator=generator)
    cue[..., 2:6] += 0.8
    told = mirror_detection(cue[:64], cue[64:], seed=0, steps=60)
    assert told["held_out"] > 0.9
    symmetric = torch.rand(96, 3, 16, 8, generator=generator)
    symmetric = torch.cat([symmetric, symmetric.flip(-1)], dim=-1)
    blind = mirror_detection(symmetric[:64], symmetric[64:], seed=0, steps=20)
    assert blind["held_out"] == 0.5
