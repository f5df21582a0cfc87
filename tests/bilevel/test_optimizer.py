"""Tests for transformrec.bilevel.optimizer: signs of the weights, the update, equivalence to SGD."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch import nn

from transformrec.bilevel import BilevelOptimizer, stack_minibatches


def mse(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return ((output.squeeze(-1) - target) ** 2).mean()


def one_weight_model() -> nn.Linear:
    model = nn.Linear(2, 1, bias=False)
    nn.init.zeros_(model.weight)
    return model


@pytest.mark.parametrize("method", ["vmap", "loop"])
def test_a_gradient_that_disagrees_with_validation_gets_a_negative_weight(method: str) -> None:
    # At w = 0 the gradient of (w·x − y)² for one sample is −2·y·x.
    # validation: x = (1, 0), y = 1 → g_v = (−2, 0); training: y = −1 → (2, 0); y = 2 → (−4, 0).
    model = one_weight_model()
    bilevel = BilevelOptimizer(model, k=3, mu=0.01, lambda_=1.0, lr=0.1, momentum=0.0, method=method, over_lr=False)
    inputs = torch.tensor([[[1.0, 0.0]], [[1.0, 0.0]], [[1.0, 0.0]]])
    targets = torch.tensor([[1.0], [-1.0], [2.0]])
    step = bilevel.step(mse, inputs, targets)
    # ω = (−4 / 4.01, 8 / 16.01), then L¹-normalised.
    raw = torch.tensor([-4 / 4.01, 8 / 16.01])
    expected = raw / raw.abs().sum()
    torch.testing.assert_close(step.weights, expected)
    assert step.weights[0] < 0 < step.weights[1]
    # Update (eq. 8.11): w ← −lr · Σ ω̂_i g_i; the validation gradient itself is not applied.
    update = -0.1 * (expected[0] * 2.0 + expected[1] * -4.0)
    torch.testing.assert_close(model.weight.detach(), torch.tensor([[float(update), 0.0]]))


def test_over_lr_reads_mu_and_lambda_as_the_thesis_mu_and_lambda_divided_by_the_learning_rate() -> None:
    # Same gradients as above; with lr ε = 0.1, μ̂ = 0.01 / 0.1 = 0.1 and λ̂ = 1 / 0.1 = 10 (eq. 8.7):
    # ω = (−4 / (4 / 10 + 0.1), 8 / (16 / 10 + 0.1)) = (−8, 80 / 17), then L¹-normalised.
    model = one_weight_model()
    bilevel = BilevelOptimizer(model, k=3, mu=0.01, lambda_=1.0, lr=0.1, momentum=0.0, over_lr=True)
    inputs = torch.tensor([[[1.0, 0.0]], [[1.0, 0.0]], [[1.0, 0.0]]])
    step = bilevel.step(mse, inputs, torch.tensor([[1.0], [-1.0], [2.0]]))
    raw = torch.tensor([-8.0, 80 / 17])
    torch.testing.assert_close(step.weights, raw / raw.abs().sum())
    # The reading follows the schedule: at lr 1, μ̂ = μ and λ̂ = λ, the weights of the test above.
    # (over_lr is the default, so these are also the default weights.)
    bilevel.param_groups[0]["lr"] = 1.0
    nn.init.zeros_(model.weight)
    step = bilevel.step(mse, inputs, torch.tensor([[1.0], [-1.0], [2.0]]))
    raw = torch.tensor([-4 / 4.01, 8 / 16.01])
    torch.testing.assert_close(step.weights, raw / raw.abs().sum())


def small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
    )


@pytest.mark.parametrize("method", ["vmap", "loop"])
def test_k2_with_agreeing_gradients_is_plain_sgd_with_momentum(method: str) -> None:
    # Two identical mini-batches: the single training weight is positive, so ω̂ = 1 and every
    # step applies exactly that mini-batch's gradient, as SGD does.
    model = small_net()
    reference = copy.deepcopy(model)
    bilevel = BilevelOptimizer(model, k=2, lr=0.05, momentum=0.9, method=method)
    sgd = torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    generator = torch.Generator().manual_seed(1)
    for _ in range(4):
        x = torch.randn(8, 1, 6, 6, generator=generator)
        y = torch.randint(0, 3, (8,), generator=generator)
        step = bilevel.step(F.cross_entropy, x.expand(2, *x.shape), y.expand(2, 8))
        assert torch.equal(step.weights, torch.ones(1))
        sgd.zero_grad()
        F.cross_entropy(reference(x), y).backward()
        sgd.step()
    for trained, expected in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(trained, expected, rtol=1e-5, atol=1e-6)


def test_per_layer_gives_one_weight_per_mini_batch_and_module() -> None:
    model = small_net()
    bilevel = BilevelOptimizer(model, k=4, per_layer=True)
    x, y = torch.randn(4, 5, 1, 6, 6), torch.randint(0, 3, (4, 5))
    step = bilevel.step(F.cross_entropy, x, y)
    assert bilevel.layer_names == ["0", "1", "4"]  # conv, batch-norm, linear; weight and bias share a layer
    assert step.weights.shape == (3, 3)
    torch.testing.assert_close(step.weights.abs().sum(0), torch.ones(3))
    # A bare layer is one layer: its own weight and bias share the root module's weights.
    assert BilevelOptimizer(nn.Linear(2, 2), k=2, per_layer=True).layer_names == [""]


def test_a_non_finite_loss_skips_the_update() -> None:
    model = one_weight_model()
    bilevel = BilevelOptimizer(model, k=2)
    step = bilevel.step(mse, torch.tensor([[[1.0, 0.0]], [[1.0, 0.0]]]), torch.tensor([[float("nan")], [1.0]]))
    assert not step.applied
    assert torch.equal(model.weight.detach(), torch.zeros(1, 2))


def test_stack_minibatches_splits_consecutive_rows() -> None:
    stacked = stack_minibatches({"x": torch.arange(6)}, 3)
    assert torch.equal(stacked["x"], torch.tensor([[0, 1], [2, 3], [4, 5]]))
    with pytest.raises(ValueError, match="equal mini-batches"):
        stack_minibatches(torch.arange(5), 2)


def test_wrong_number_of_mini_batches_and_k_below_two_are_errors() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        BilevelOptimizer(one_weight_model(), k=1)
    bilevel = BilevelOptimizer(one_weight_model(), k=3)
    with pytest.raises(ValueError, match="expected 3"):
        bilevel.step(mse, torch.zeros(2, 1, 2), torch.zeros(2, 1))


def test_the_thesis_reading_is_the_default_and_refuses_a_zero_learning_rate() -> None:
    assert BilevelOptimizer(one_weight_model(), k=3).over_lr
    inputs = torch.tensor([[[1.0, 0.0]], [[1.0, 0.0]], [[1.0, 0.0]]])
    with pytest.raises(ValueError, match="pass over_lr=False"):
        BilevelOptimizer(one_weight_model(), k=3, lr=0.0).step(mse, inputs, torch.tensor([[1.0], [-1.0], [2.0]]))
