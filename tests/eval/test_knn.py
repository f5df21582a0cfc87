"""Tests for transformrec.eval.knn against a brute-force numpy/scipy reference (sec. 4.4, fig. 4.6)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from eval_fakes import TensorSet
from scipy.spatial.distance import cdist
from torch import nn

from transformrec.backbones.base import TappedBackbone
from transformrec.eval import get_evaluation
from transformrec.eval.features import extract_features
from transformrec.eval.knn import knn_evaluation, knn_loocv_accuracy, knn_predict, vote


def brute_force_knn(train, train_labels, query, k, loocv=False):
    """Reference: standardize with the training statistics, cosine distances, majority vote,
    ties by summed similarity then smallest class; LOOCV masks each sample's own distance."""
    train, query = np.asarray(train, np.float64), np.asarray(query, np.float64)
    labels = np.asarray(train_labels)
    mean, std = train.mean(0), train.std(0)
    std[std <= 1e-8] = 1.0
    dist = cdist((query - mean) / std, (train - mean) / std, "cosine")
    if loocv:
        np.fill_diagonal(dist, np.inf)
    predictions = []
    for row in dist:
        nearest = np.argsort(row, kind="stable")[:k]
        votes, sims = {}, {}
        for j in nearest:
            votes[labels[j]] = votes.get(labels[j], 0) + 1
            sims[labels[j]] = sims.get(labels[j], 0.0) + 1.0 - row[j]
        predictions.append(min(votes, key=lambda c: (-votes[c], -sims[c], c)))
    return np.array(predictions)


def clustered(n, dim=12, classes=4, noise=1.5, seed=0):
    """Overlapping Gaussian clusters with a per-dimension scale, so votes are not unanimous."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (n,), generator=gen)
    centres = torch.randn(classes, dim, generator=gen)
    scale = torch.linspace(0.5, 5.0, dim)
    return (centres[labels] + noise * torch.randn(n, dim, generator=gen)) * scale + 3.0, labels


@pytest.mark.parametrize("k", [1, 2, 4, 7])
def test_knn_predict_matches_brute_force(k):
    train, train_labels = clustered(90, seed=1)
    query, _ = clustered(40, seed=2)
    expected = brute_force_knn(train.numpy(), train_labels.numpy(), query.numpy(), k)
    predicted = knn_predict(train, train_labels, query, k, chunk_size=7)  # blocks of 7 exercise the top-k merge
    np.testing.assert_array_equal(predicted.numpy(), expected)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_loocv_matches_brute_force_leave_one_out(k):
    feats, labels = clustered(80, seed=3)
    expected = brute_force_knn(feats.numpy(), labels.numpy(), feats.numpy(), k, loocv=True)
    predicted = knn_predict(feats, labels, feats, k, exclude_self=True, chunk_size=9)
    np.testing.assert_array_equal(predicted.numpy(), expected)
    assert knn_loocv_accuracy(feats, labels, k, chunk_size=9) == pytest.approx((expected == labels.numpy()).mean())


def test_loocv_differs_from_including_self():
    feats, labels = clustered(60, seed=4)
    assert (knn_predict(feats, labels, feats, 1) == labels).all()  # every sample is its own 1-NN
    assert knn_loocv_accuracy(feats, labels, 1) < 1.0


def test_chunk_size_does_not_change_results():
    train, train_labels = clustered(70, seed=5)
    query, _ = clustered(33, seed=6)
    big = knn_predict(train, train_labels, query, 5, chunk_size=4096)
    assert torch.equal(knn_predict(train, train_labels, query, 5, chunk_size=1), big)
    assert torch.equal(knn_predict(train, train_labels, query, 5, chunk_size=13), big)


def test_vote_majority_then_summed_similarity_then_smallest_class():
    labels = torch.tensor([[0, 1, 1], [0, 1, 2], [2, 1, 0], [1, 0, 0]])
    sims = torch.tensor([[0.99, 0.1, 0.1], [0.2, 0.9, 0.5], [0.5, 0.5, 0.5], [0.9, 0.3, 0.2]])
    # majority wins over a closer neighbour; 1-1-1 tie -> most similar; exact tie -> class 0
    assert vote(labels, sims, 3).tolist() == [1, 1, 0, 0]
    assert vote(torch.tensor([[1, 0]]), torch.tensor([[0.8, 0.3]]), 2).tolist() == [1]


def test_knn_rejects_k_larger_than_the_reference_set():
    feats, labels = clustered(5)
    with pytest.raises(ValueError, match="neighbours"):
        knn_predict(feats, labels, feats, 5, exclude_self=True)


class TwoTapNet(TappedBackbone):
    tap_names = ("conv", "fc")
    feature_dim = 4

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 4)

    def forward_taps(self, x: torch.Tensor, taps) -> dict[str, torch.Tensor]:
        conv = torch.relu(self.conv(x))
        out = {"conv": conv, "fc": self.fc(conv.flatten(1))}
        return {tap: out[tap] for tap in taps}


def test_knn_evaluation_reports_test_and_loocv_accuracy_per_tap_and_k():
    torch.manual_seed(0)
    train_x, train_y = clustered(60, dim=48, seed=7)
    test_x, test_y = clustered(30, dim=48, seed=8)
    train_set = TensorSet(train_x.view(-1, 3, 4, 4), train_y, 4)
    test_set = TensorSet(test_x.view(-1, 3, 4, 4), test_y, 4)
    net = TwoTapNet()

    result = get_evaluation("knn")(net, train_set, test_set, ks=(5, 1), chunk_size=8)

    json.dumps(result)
    assert get_evaluation("knn") is knn_evaluation
    assert set(result["per_tap"]) == {"conv", "fc"} and result["settings"]["ks"] == [1, 5]
    train_feats, _ = extract_features(net, train_set)
    test_feats, _ = extract_features(net, test_set)
    for tap in ("conv", "fc"):
        for k in (1, 5):
            predicted = knn_predict(train_feats[tap], train_y, test_feats[tap], k)
            expected_test = float((predicted == test_y).float().mean())
            assert result["per_tap"][tap]["test_acc"][str(k)] == pytest.approx(expected_test)
            expected_loocv = brute_force_knn(test_feats[tap], test_y, test_feats[tap], k, loocv=True)
            loocv_acc = (expected_loocv == test_y.numpy()).mean()
            assert result["per_tap"][tap]["loocv_acc"][str(k)] == pytest.approx(loocv_acc)
    best = result["per_tap"][result["best_tap"]]["test_acc"][str(result["best_k"])]
    all_test_accs = [acc for tap in result["per_tap"].values() for acc in tap["test_acc"].values()]
    assert result["best_test_acc"] == best == max(all_test_accs)
