"""Synchronization accuracy against the time gap between the two views (fig. 6.4).

Why: the sync head's training accuracy mixes every gap d_min < |Δt| < d_max, so it cannot show
whether the network tells apart only gross pose changes or also close frames, nor whether it
carries over to subjects it never saw. Fig. 6.4 samples synchronized and unsynchronized pairs in
equal proportion on the test subjects, the unsynchronized gap drawn from [Δt − 7, Δt + 8] around
each centre Δt, and plots the accuracy per centre.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from transformrec.data.multiview_pairs import MultiViewPairs, PairPlan
from transformrec.functional.pair_sampling import POSITIVE, UNSYNCHRONIZED

GAP_BELOW, GAP_ABOVE = 7, 8
"""The unsynchronized gap around a centre Δt is uniform on [Δt − 7, Δt + 8] (fig. 6.4's caption)."""


def _plans(pairs: MultiViewPairs, centre: int, count: int, generator: torch.Generator) -> list[tuple[PairPlan, int]]:
    """``count`` synchronized and ``count`` unsynchronized plans (pair, true sync label) at gaps around ``centre``."""
    sequences = pairs.folder.sequences
    labels = pairs.targets["sync"]
    positive, negative = labels[pairs.kinds.index(POSITIVE)], labels[pairs.kinds.index(UNSYNCHRONIZED)]
    plans = []
    for kind in (POSITIVE, UNSYNCHRONIZED):
        made = 0
        while made < count:
            sequence = int(torch.randint(len(sequences), (1,), generator=generator))
            frames = sequences[sequence].num_frames
            gap = 0
            if kind == UNSYNCHRONIZED:
                low, high = max(1, centre - GAP_BELOW), centre + GAP_ABOVE
                gap = int(torch.randint(low, high + 1, (1,), generator=generator))
                if gap >= frames:
                    if low >= frames:
                        raise ValueError(f"gap centre {centre} does not fit sequences of {frames} frames")
                    continue
            start = int(torch.randint(frames - gap, (1,), generator=generator))
            times = (start, start + gap) if bool(torch.randint(2, (1,), generator=generator)) else (start + gap, start)
            views = pairs.draw_views(sequences[sequence].num_views, generator)  # (l): the one-camera task it learned
            label = positive if kind == POSITIVE else negative
            plans.append((PairPlan(kind, sequence, times, views, False, None), label))
            made += 1
    return plans


@torch.no_grad()
def sync_accuracy_by_gap(
    model: torch.nn.Module,
    pairs: MultiViewPairs,
    centres: Sequence[int],
    pairs_per_centre: int = 64,
    batch_size: int = 32,
    seed: int = 0,
) -> dict[int, float]:
    """Sync-head accuracy on ``pairs_per_centre`` synchronized + as many unsynchronized pairs per gap centre.

    ``model`` maps a batch of pairs ``B×2×C×H×W`` to ``{"sync": B×2 logits, …}`` (a pretext model
    after training); ``pairs`` says which frames exist and how a frame is prepared (its folder's
    background handling and crop) and which label the sync head gives each kind of pair. Pairs are
    never mirrored, so only the time gap differs between centres.
    """
    if "sync" not in pairs.targets:
        raise ValueError("sync_accuracy_by_gap needs pairs built with the sync transform")
    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    accuracy = {}
    try:
        for centre in centres:
            plans = _plans(pairs, int(centre), pairs_per_centre, generator)
            correct = 0
            for start in range(0, len(plans), batch_size):
                chunk = plans[start : start + batch_size]
                images = torch.stack([pairs.build(plan) for plan, _ in chunk]).to(device)
                predicted = model(images)["sync"].argmax(1).cpu()
                correct += int((predicted == torch.tensor([label for _, label in chunk])).sum())
            accuracy[int(centre)] = correct / len(plans)
    finally:
        model.train(was_training)
    return accuracy


__all__ = ["GAP_ABOVE", "GAP_BELOW", "sync_accuracy_by_gap"]
