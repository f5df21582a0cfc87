"""The online monitor: its ridge probe against numpy's closed form, its accuracies on data whose
answer is known (separable classes, shuffled labels), and that measuring changes nothing."""

import numpy as np
import pytest
import torch
from eval_fakes import TensorSet
from test_linear_probe import PassThroughNet, separable

from transformrec.eval.online_monitor import OnlineMonitor, ridge_classifier_accuracy


def _numpy_ridge_predictions(train_x, train_y, test_x, ridge):
    """The primal ridge solution with numpy: standardise by the training set, append a bias column."""
    mean, std = train_x.mean(0), train_x.std(0, ddof=0) + 1e-8
    x = np.hstack([(train_x - mean) / std, np.ones((len(train_x), 1))])
    t = np.hstack([(test_x - mean) / std, np.ones((len(test_x), 1))])
    y = np.eye(int(train_y.max()) + 1)[train_y]
    weights = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ y)
    return (t @ weights).argmax(1)


@pytest.mark.parametrize("count", [40, 400])  # fewer images than dimensions (the dual), and more (the primal)
def test_the_ridge_probe_predicts_what_numpys_closed_form_predicts(count):
    generator = np.random.default_rng(0)
    train_x, test_x = generator.normal(size=(count, 64)), generator.normal(size=(200, 64))
    train_y, test_y = generator.integers(0, 5, count), generator.integers(0, 5, 200)
    expected = float((_numpy_ridge_predictions(train_x, train_y, test_x, 1.0) == test_y).mean())
    ours = ridge_classifier_accuracy(
        torch.tensor(train_x), torch.tensor(train_y), torch.tensor(test_x), torch.tensor(test_y), ridge=1.0
    )
    assert ours == pytest.approx(expected, abs=1e-9)


def test_separable_classes_are_read_by_both_protocols_and_shuffled_labels_are_at_chance():
    images, labels = separable(400, seed=0)
    monitor = OnlineMonitor(TensorSet(images, labels, 4), every=1, taps=["raw"], k=10)
    values = monitor(PassThroughNet())
    assert values["monitor/linear/raw"] > 0.8 and values["monitor/knn/raw"] > 0.6  # chance: 0.25
    shuffled = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(1))]
    chance = OnlineMonitor(TensorSet(images, shuffled, 4), every=1, taps=["raw"], k=10)(PassThroughNet())
    assert max(chance.values()) < 0.4  # 4 classes: 0.25 expected


def test_measuring_leaves_the_backbone_and_every_random_state_as_they_were():
    images, labels = separable(100, seed=0)
    backbone = PassThroughNet().train()
    torch.manual_seed(5)
    before = torch.get_rng_state()
    OnlineMonitor(TensorSet(images, labels, 4), every=1, taps=["raw"], k=5)(backbone)
    assert torch.equal(torch.get_rng_state(), before) and backbone.training


def test_bad_settings_are_refused_by_name():
    images, labels = separable(100, seed=0)
    data = TensorSet(images, labels, 4)
    with pytest.raises(ValueError, match="monitor protocols must be among knn, linear"):
        OnlineMonitor(data, protocols=["svm"])
    with pytest.raises(ValueError, match="fewer than the 2k = 200"):
        OnlineMonitor(data, k=100)
