"""Pairs of sec. 6.2.1 with the targets of eq. 6.1: what each pair is made of, and how it is labelled."""

import torch

from transformrec.data.multiview_folder import MultiViewFolder
from transformrec.data.multiview_pairs import MultiViewPairs
from transformrec.transforms import IGNORE_INDEX, Flip, Synchronization, TransformSet


def _pairs(root, transforms, **kwargs):
    return MultiViewPairs(MultiViewFolder(root, split="train"), TransformSet(transforms), seed=0, **kwargs)


def test_both_signals_give_three_pairs_with_eq_6_1_targets(multiview_root):
    pairs = _pairs(multiview_root, [Synchronization(), Flip()])
    assert pairs.kinds == ["positive", "unsynchronized", "flipped"]
    stack, targets = pairs[5]
    assert stack.shape == (3, 2, 3, 16, 16)
    sync = pairs.transform_set.heads["sync"]
    flip = pairs.transform_set.heads["flip"]
    assert targets["sync"].tolist() == [sync.index("synchronized"), sync.index("unsynchronized"), IGNORE_INDEX]
    assert targets["flip"].tolist() == [flip.index("not_flipped"), IGNORE_INDEX, flip.index("flipped")]


def test_single_signals_only_build_their_pairs(multiview_root):
    assert _pairs(multiview_root, [Flip()]).kinds == ["positive", "flipped"]
    only_sync = _pairs(multiview_root, [Synchronization()])
    assert only_sync.kinds == ["positive", "unsynchronized"] and set(only_sync.targets) == {"sync"}


def test_pairs_are_the_planned_frames_with_joint_and_single_mirroring(multiview_root):
    pairs = _pairs(multiview_root, [Synchronization(d_min=4, d_max=20), Flip()])
    folder = pairs.folder
    seen_flipped_frames, seen_mirror = set(), set()
    for index in range(0, len(pairs), 7):
        plans, _ = pairs.plan(index)
        stack, _ = pairs[index]
        for plan, pair in zip(plans, stack, strict=True):
            assert plan.views[0] != plan.views[1]
            if plan.kind == "unsynchronized":
                assert 4 < abs(plan.times[1] - plan.times[0]) < 20
            else:
                assert plan.times[0] == plan.times[1] == pairs.anchors[index][1]
            raw = torch.stack(
                [folder.raw_frame(plan.sequence, v, t) for v, t in zip(plan.views, plan.times, strict=True)]
            )
            expected = raw.flip(-1) if plan.mirror_both else raw
            seen_mirror.add(plan.mirror_both)
            if plan.kind == "flipped":
                k = plan.flipped_frame
                seen_flipped_frames.add(k)
                assert torch.equal(pair[k], expected[k].flip(-1))  # an exact mirror of one frame
                assert torch.equal(pair[1 - k], expected[1 - k])
            else:
                assert torch.equal(pair, expected)
    assert seen_flipped_frames == {0, 1} and seen_mirror == {True, False}


def test_items_replay_per_epoch_and_change_between_epochs(multiview_root):
    pairs = _pairs(multiview_root, [Synchronization(), Flip()])
    first, _ = pairs[3]
    assert torch.equal(pairs[3][0], first)
    pairs.set_epoch(1)
    assert pairs.plan(3)[0] != _pairs(multiview_root, [Synchronization(), Flip()]).plan(3)[0]


def test_single_view_ablation_pairs_one_camera_under_two_augmentations(multiview_root):
    pairs = _pairs(multiview_root, [Synchronization(single_view=True), Flip(single_view=True)], hflip=False)
    plans, _ = pairs.plan(2)
    stack, _ = pairs[2]
    positive = stack[0]
    assert plans[0].views[0] == plans[0].views[1] and plans[0].times[0] == plans[0].times[1]
    assert not torch.equal(positive[0], positive[1])  # same frame, different random similarity warps
