"""k-nearest-neighbour classification on frozen features (sec. 4.4, fig. 4.6).

Why: besides linear probes, the thesis checks whether semantically similar images are close
in feature space (fig. 4.7) and reports k-NN accuracy for several ``k`` (fig. 4.6). Following
the text, features are standardized and compared by cosine similarity, and leave-one-out
cross-validation (LOOCV) is computed "by computing (k+1)-nearest neighbors using the complete
dataset and by excluding the closest neighbor for each query".

Votes: each neighbour votes for its label; the class with most votes wins. A tie in votes is
broken by the larger summed cosine similarity of the tied classes' neighbours (so closer
neighbours count more), and an exact tie in that too by the smaller class index.

Similarities are computed in ``chunk_size × chunk_size`` blocks with a running top-k merge, so
memory stays bounded for any number of queries and references.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch.utils.data import Dataset

from transformrec.backbones.base import TappedBackbone
from transformrec.eval.features import extract_features, standardization_stats
from transformrec.eval.registry import register_evaluation


def _normalize(feats: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Standardize with the reference statistics, then L2-normalize so a dot product is cosine."""
    return F.normalize((feats.float() - mean) / std, dim=1)


def nearest_neighbours(
    reference: torch.Tensor,
    queries: torch.Tensor,
    k: int,
    exclude_self: bool = False,
    chunk_size: int = 4096,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` cosine similarities and reference indices for each query, best first.

    ``reference`` and ``queries`` must already be standardized and L2-normalized. With
    ``exclude_self`` the queries *are* the reference set (row ``i`` is sample ``i``): the
    ``k + 1`` nearest neighbours are found and the query itself is dropped from them (it is
    the closest one, similarity 1); should it not be among them (more than ``k`` exact
    duplicates), the ``(k+1)``-th is dropped instead, so the result is exact LOOCV.
    """
    num_ref = reference.shape[0]
    fetch = k + 1 if exclude_self else k
    if exclude_self and queries.shape[0] != num_ref:
        raise ValueError("exclude_self needs the queries to be the reference set itself")
    if not 1 <= fetch <= num_ref:
        raise ValueError(f"k={k} needs {fetch} neighbours but the reference set has {num_ref} samples")
    all_sims: list[torch.Tensor] = []
    all_idx: list[torch.Tensor] = []
    for q_start in range(0, queries.shape[0], chunk_size):
        query = queries[q_start : q_start + chunk_size]
        best_sims = query.new_full((query.shape[0], 0), float("-inf"))
        best_idx = torch.empty((query.shape[0], 0), dtype=torch.long, device=query.device)
        for r_start in range(0, num_ref, chunk_size):
            sims = query @ reference[r_start : r_start + chunk_size].T
            block_sims, block_idx = sims.topk(min(fetch, sims.shape[1]), dim=1)
            merged_sims = torch.cat([best_sims, block_sims], dim=1)
            merged_idx = torch.cat([best_idx, block_idx + r_start], dim=1)
            best_sims, order = merged_sims.topk(min(fetch, merged_sims.shape[1]), dim=1)
            best_idx = merged_idx.gather(1, order)
        if exclude_self:
            own = torch.arange(q_start, q_start + query.shape[0], device=query.device)
            drop = best_idx == own[:, None]
            drop[~drop.any(1), -1] = True
            best_sims = best_sims[~drop].view(-1, k)
            best_idx = best_idx[~drop].view(-1, k)
        all_sims.append(best_sims)
        all_idx.append(best_idx)
    return torch.cat(all_sims), torch.cat(all_idx)


def vote(neighbour_labels: torch.Tensor, neighbour_sims: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Majority vote over the neighbours; ties by summed similarity, then the smallest class."""
    counts = torch.zeros(neighbour_labels.shape[0], num_classes, device=neighbour_labels.device)
    counts.scatter_add_(1, neighbour_labels, torch.ones_like(neighbour_sims))
    sim_sums = torch.zeros_like(counts).scatter_add_(1, neighbour_labels, neighbour_sims)
    tied = counts == counts.max(1, keepdim=True).values
    return sim_sums.masked_fill(~tied, float("-inf")).argmax(1)


def _num_classes(*labels: torch.Tensor) -> int:
    return int(max(int(lab.max()) for lab in labels if lab.numel())) + 1


def knn_predict(
    train_feats: torch.Tensor,
    train_labels: torch.Tensor,
    query_feats: torch.Tensor,
    k: int,
    exclude_self: bool = False,
    chunk_size: int = 4096,
) -> torch.Tensor:
    """Predict labels of ``query_feats`` by a ``k``-NN vote over ``train_feats`` (sec. 4.4).

    Why standardize with the *reference* statistics: that is the only information a classifier
    may use; queries are mapped into the same normalized space. Similarity is cosine (fig. 4.7);
    see the module docstring for the vote's tie rule. ``exclude_self`` means ``query_feats``
    is ``train_feats`` and each sample's own entry is left out (LOOCV, fig. 4.6).
    """
    if exclude_self and query_feats.shape != train_feats.shape:
        raise ValueError("exclude_self needs query_feats to be train_feats (leave-one-out)")
    mean, std = standardization_stats(train_feats)
    reference = _normalize(train_feats, mean, std)
    queries = reference if exclude_self else _normalize(query_feats.to(reference.device), mean, std)
    sims, idx = nearest_neighbours(reference, queries, k, exclude_self, chunk_size)
    train_labels = train_labels.to(reference.device).long()
    return vote(train_labels[idx], sims, _num_classes(train_labels)).cpu()


def knn_loocv_accuracy(feats: torch.Tensor, labels: torch.Tensor, k: int, chunk_size: int = 4096) -> float:
    """Leave-one-out k-NN accuracy on one set, via ``k+1`` neighbours minus the query itself (fig. 4.6)."""
    predictions = knn_predict(feats, labels, feats, k, exclude_self=True, chunk_size=chunk_size)
    return float((predictions == labels.cpu()).float().mean())


def _accuracies_for_ks(
    reference: torch.Tensor,
    ref_labels: torch.Tensor,
    queries: torch.Tensor,
    query_labels: torch.Tensor,
    ks: Sequence[int],
    exclude_self: bool,
    chunk_size: int,
) -> dict[str, float]:
    """One neighbour search for ``max(ks)``; the top-k of a sorted top-K list is its prefix."""
    sims, idx = nearest_neighbours(reference, queries, max(ks), exclude_self, chunk_size)
    num_classes = _num_classes(ref_labels, query_labels)
    neighbour_labels = ref_labels[idx]
    return {
        str(k): float((vote(neighbour_labels[:, :k], sims[:, :k], num_classes) == query_labels).float().mean())
        for k in ks
    }


@register_evaluation("knn", run_inputs=("device",))
def knn_evaluation(
    backbone: TappedBackbone,
    train_set: Dataset,
    test_set: Dataset,
    taps: Sequence[str] | None = None,
    ks: Sequence[int] = (1, 5, 10, 20),
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    target_dim: int = 9216,
    chunk_size: int = 4096,
    loocv: bool = True,
) -> dict[str, Any]:
    """k-NN accuracy of every tap of a frozen ``backbone`` (sec. 4.4, fig. 4.6).

    For each tap and ``k``: test accuracy with the training set as reference, and (``loocv``)
    the leave-one-out accuracy on the test set alone, which is what fig. 4.6 reports on the
    Places validation set. Accuracies are fractions in ``[0, 1]``; ``k`` keys are strings so the
    result is JSON-serialisable.
    """
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be positive integers, got {ks}")
    taps = tuple(backbone.tap_names if taps is None else taps)
    train_feats, train_labels = extract_features(backbone, train_set, taps, batch_size, device, target_dim)
    test_feats, test_labels = extract_features(backbone, test_set, taps, batch_size, device, target_dim)
    train_labels, test_labels = train_labels.to(device), test_labels.to(device)

    per_tap: dict[str, dict[str, dict[str, float]]] = {}
    for tap in taps:
        mean, std = standardization_stats(train_feats[tap].to(device))
        reference = _normalize(train_feats[tap].to(device), mean, std)
        queries = _normalize(test_feats[tap].to(device), mean, std)
        result = {"test_acc": _accuracies_for_ks(reference, train_labels, queries, test_labels, ks, False, chunk_size)}
        if loocv:
            test_mean, test_std = standardization_stats(test_feats[tap].to(device))
            own = _normalize(test_feats[tap].to(device), test_mean, test_std)
            result["loocv_acc"] = _accuracies_for_ks(own, test_labels, own, test_labels, ks, True, chunk_size)
        per_tap[tap] = result
    best_tap, best_k = max(
        ((tap, str(k)) for tap in taps for k in ks), key=lambda pair: per_tap[pair[0]]["test_acc"][pair[1]]
    )
    return {
        "evaluation": "knn",
        "per_tap": per_tap,
        "best_tap": best_tap,
        "best_k": int(best_k),
        "best_test_acc": per_tap[best_tap]["test_acc"][best_k],
        "settings": {
            "taps": list(taps),
            "ks": ks,
            "target_dim": target_dim,
            "similarity": "cosine on standardized features",
            "num_train": int(train_labels.numel()),
            "num_test": int(test_labels.numel()),
        },
    }
