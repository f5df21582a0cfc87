"""Fixtures shared across test directories."""

import pytest

from transformrec.data.procedural_multiview import write_procedural_multiview


@pytest.fixture(scope="session")
def multiview_root(tmp_path_factory):
    """A tiny procedural multi-view studio: 3 subjects (S1, S5 train; S9 test) × 2 actions × 24 frames, 16 px."""
    root = tmp_path_factory.mktemp("multiview")
    write_procedural_multiview(root, subjects=("S1", "S5", "S9"), actions=("walk", "wave"), num_frames=24, size=16)
    return root
