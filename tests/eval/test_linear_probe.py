"""Tests for transformrec.eval.linear_probe (sec. 4.4, tables 4.2/4.5/4.6 protocol)."""

from __future__ import annotations

import json

import pytest
import torch
from eval_fakes import TensorSet
from torch import nn

from transformrec.backbones.base import TappedBackbone
from transformrec.eval import get_evaluation, linear_probe
from transformrec.eval.linear_probe import LinearProbeResult, fit_linear_classifier


class PassThroughNet(TappedBackbone):
    """``raw``: the input map itself (linearly separable by construction); ``squash``: the sum of
    all inputs, a single number that loses most of the class information."""

    tap_names = ("raw", "squash")
    feature_dim = 1

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward_taps(self, x: torch.Tensor, taps) -> dict[str, torch.Tensor]:
        out = {"raw": x * self.scale, "squash": x.flatten(1).sum(1, keepdim=True)}
        return {tap: out[tap] for tap in taps}


def separable(n: int, seed: int, classes: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Images 4×2×2 whose labels are the argmax of a fixed linear map (with a margin)."""
    gen = torch.Generator().manual_seed(seed)
    weights = torch.randn(classes, 16, generator=torch.Generator().manual_seed(99))
    x = torch.randn(4 * n, 16, generator=gen) * 2.0 + 1.0
    scores = x @ weights.T
    top2 = scores.topk(2, dim=1).values
    keep = (top2[:, 0] - top2[:, 1] > 1.0).nonzero().flatten()[:n]  # margin: truly separable
    return x[keep].view(-1, 4, 2, 2), scores[keep].argmax(1)


def sets(shuffle_train: bool = False) -> tuple[TensorSet, TensorSet]:
    train_x, train_y = separable(600, seed=0)
    test_x, test_y = separable(400, seed=1)
    if shuffle_train:
        train_y = train_y[torch.randperm(len(train_y), generator=torch.Generator().manual_seed(5))]
    return TensorSet(train_x, train_y, 4), TensorSet(test_x, test_y, 4)


FAST = {"epochs": 40, "lr": 3e-2, "batch_size": 64}


def test_linear_probe_separates_linearly_separable_features():
    train_set, test_set = sets()
    result = linear_probe(PassThroughNet(), train_set, test_set, resize="down", **FAST)
    raw = result["per_tap"]["raw"]
    assert len(train_set) == 600 and len(test_set) == 400
    assert raw["train_acc"] >= 0.99 and raw["test_acc"] >= 0.95
    assert raw["feature_dim"] == 16  # 4×2×2 map, never upsampled towards 9216 with resize="down"
    assert result["per_tap"]["squash"]["test_acc"] < 0.6
    assert result["best_tap"] == "raw" and result["best_test_acc"] == raw["test_acc"]


def test_linear_probe_is_at_chance_on_shuffled_labels():
    train_set, test_set = sets(shuffle_train=True)
    result = linear_probe(PassThroughNet(), train_set, test_set, taps=["raw"], **FAST)
    majority = torch.bincount(test_set.labels).max().item() / len(test_set)
    assert result["per_tap"]["raw"]["test_acc"] <= majority + 0.1


def test_linear_probe_is_registered_seeded_and_json_serialisable():
    train_set, test_set = sets()
    probe = get_evaluation("linear_probe")
    assert probe is linear_probe
    first = probe(PassThroughNet(), train_set, test_set, taps=["raw"], seed=3, **FAST)
    second = probe(PassThroughNet(), train_set, test_set, taps=["raw"], seed=3, **FAST)
    assert first == second
    assert json.loads(json.dumps(first)) == first
    assert first["settings"]["num_train"] == len(train_set) and first["settings"]["num_classes"] == 4


def test_linear_probe_low_shot_uses_per_class_subset():
    train_set, test_set = sets()
    result = linear_probe(PassThroughNet(), train_set, test_set, taps=["raw"], labels_per_class=10, **FAST)
    assert result["settings"]["num_train"] == 40
    assert result["per_tap"]["raw"]["test_acc"] > 0.5  # chance is 0.25


def test_fit_linear_classifier_leaves_global_rng_untouched():
    state = torch.get_rng_state()
    features = torch.randn(20, 3, generator=torch.Generator().manual_seed(0))
    classifier = fit_linear_classifier(features, torch.arange(20) % 2, 2, epochs=2, batch_size=8)
    assert torch.equal(state, torch.get_rng_state())
    assert classifier.weight.shape == (2, 3)


def test_linear_probe_result_picks_the_best_tap():
    result = LinearProbeResult({"a": {"train_acc": 1.0, "test_acc": 0.5}, "b": {"train_acc": 0.9, "test_acc": 0.7}})
    assert result.best_tap == "b" and result.to_dict()["best_test_acc"] == pytest.approx(0.7)


def test_linear_probe_with_bilevel_separates_separable_data():
    train_x, train_y = separable(300, 0)
    test_x, test_y = separable(200, 1)
    result = linear_probe(
        PassThroughNet(),
        TensorSet(train_x, train_y, 4),
        TensorSet(test_x, test_y, 4),
        taps=["raw"],
        epochs=20,
        lr=3e-2,
        batch_size=8,
        bilevel={"k": 4},
    )
    assert result["per_tap"]["raw"]["test_acc"] > 0.8  # chance is 1/4; k times fewer steps than plain Adam
    assert result["settings"]["bilevel"]["k"] == 4


def test_default_probe_resizes_every_tap_to_the_target_dimension_and_still_separates():
    train_set, test_set = sets()
    result = linear_probe(PassThroughNet(), train_set, test_set, taps=["raw"], target_dim=1024, **FAST)
    raw = result["per_tap"]["raw"]
    assert raw["feature_dim"] == 4 * 16 * 16  # side round(sqrt(1024 / 4)) = 16: the 2×2 map is upsampled
    assert raw["test_acc"] >= 0.95 and result["settings"]["resize"] == "both"


def test_augmented_views_multiply_the_training_set_and_are_reported():
    train_set, test_set = sets()
    result = linear_probe(PassThroughNet(), train_set, test_set, taps=["raw"], augment_views=2, **FAST)
    assert result["settings"]["num_train"] == 3 * 600 and result["settings"]["augment_views"] == 2


def test_saved_probes_reproduce_the_reported_test_accuracy(tmp_path):
    """The file holds what a user needs to apply a probe: standardise the tap's features, then W x + b."""
    train_set, test_set = sets()
    result = linear_probe(PassThroughNet(), train_set, test_set, resize="down", save_to=tmp_path / "p.pt", **FAST)
    saved = torch.load(result["heads_path"], weights_only=True)
    head = saved["heads"]["raw"]
    features = test_set.images.flatten(1)  # the raw tap is the input itself (16 dims, never resized)
    logits = ((features - head["mean"]) / head["std"]) @ head["weight"].T + head["bias"]
    accuracy = (logits.argmax(1) == test_set.labels).float().mean().item()
    assert accuracy == pytest.approx(result["per_tap"]["raw"]["test_acc"])
    assert saved["settings"]["taps"] == ["raw", "squash"] and json.dumps({k: v for k, v in result.items()})
