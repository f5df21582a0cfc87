"""Fig. 6.4's sync-accuracy-by-gap protocol against models whose accuracy is known in closed form."""

import pytest
import torch

from transformrec.data.multiview_folder import MultiViewFolder
from transformrec.data.multiview_pairs import MultiViewPairs
from transformrec.eval.sync_gap import GAP_ABOVE, GAP_BELOW, _plans, sync_accuracy_by_gap
from transformrec.functional.pair_sampling import POSITIVE
from transformrec.transforms import Flip, Synchronization
from transformrec.transforms.transform_set import TransformSet


def _pairs(root) -> MultiViewPairs:
    folder = MultiViewFolder(root, split="train")
    pairs = MultiViewPairs(folder, TransformSet([Synchronization(), Flip()]), hflip=False)
    # Every pixel of a frame holds its time index: an oracle can then read the gap off the pair.
    pairs.folder.frame = lambda sequence, view, t, generator=None: torch.full((3, 4, 4), float(t))
    return pairs


class _Oracle(torch.nn.Module):
    """Logits for the sync head's true labels: same time in both frames ⇒ synchronized."""

    def __init__(self, synchronized: int, unsynchronized: int, invert: bool = False) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.labels, self.invert = (synchronized, unsynchronized), invert

    def forward(self, x):
        same = (x[:, 0, 0, 0, 0] == x[:, 1, 0, 0, 0]) ^ self.invert
        label = torch.where(same, self.labels[0], self.labels[1])
        return {"sync": torch.nn.functional.one_hot(label, 2).float()}


def _labels(pairs):
    sync = pairs.targets["sync"]
    return sync[pairs.kinds.index(POSITIVE)], 1 - sync[pairs.kinds.index(POSITIVE)]


def test_unsynchronized_gaps_lie_in_the_window_around_the_centre_and_kinds_are_balanced(multiview_root):
    pairs = _pairs(multiview_root)
    plans = _plans(pairs, 10, 40, torch.Generator().manual_seed(0))
    gaps = [abs(plan.times[1] - plan.times[0]) for plan, _ in plans]
    assert gaps[:40] == [0] * 40
    assert all(10 - GAP_BELOW <= gap <= 10 + GAP_ABOVE for gap in gaps[40:])
    assert len(set(gaps[40:])) > 5  # drawn over the window, not one value
    assert all(plan.views[0] != plan.views[1] for plan, _ in plans)


def test_an_oracle_scores_one_a_constant_guess_one_half_and_an_inverted_oracle_zero(multiview_root):
    pairs = _pairs(multiview_root)
    synchronized, unsynchronized = _labels(pairs)
    oracle = _Oracle(synchronized, unsynchronized)
    assert sync_accuracy_by_gap(oracle, pairs, [2, 10], pairs_per_centre=16) == {2: 1.0, 10: 1.0}
    always_sync = _Oracle(synchronized, synchronized)
    assert sync_accuracy_by_gap(always_sync, pairs, [5], pairs_per_centre=16) == {5: 0.5}
    inverted = _Oracle(synchronized, unsynchronized, invert=True)
    assert sync_accuracy_by_gap(inverted, pairs, [5], pairs_per_centre=8) == {5: 0.0}


def test_a_centre_beyond_the_sequences_is_refused(multiview_root):
    pairs = _pairs(multiview_root)
    with pytest.raises(ValueError, match="gap centre 100"):
        sync_accuracy_by_gap(_Oracle(0, 1), pairs, [100], pairs_per_centre=2)


def test_single_view_pairs_are_measured_on_one_camera_as_ablation_l_trains(multiview_root):
    folder = MultiViewFolder(multiview_root, split="train")
    pairs = MultiViewPairs(folder, TransformSet([Synchronization(single_view=True)]), hflip=False)
    plans = _plans(pairs, 10, 40, torch.Generator().manual_seed(0))
    assert all(plan.views[0] == plan.views[1] for plan, _ in plans)
    assert len({plan.views[0] for plan, _ in plans}) > 1  # the camera is drawn, not fixed
