"""Tests for transformrec.bilevel.per_batch_grads: vmap and loop agree with one backward per batch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch import nn

from transformrec.bilevel import per_batch_grads


def net(dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(4 * 5 * 5, 3),
    )


@pytest.mark.parametrize("method", ["vmap", "loop"])
def test_gradients_equal_separate_backward_passes(method: str) -> None:
    model = net().eval()  # eval: batch-norm uses running statistics, so batches are independent
    x, y = torch.randn(3, 4, 1, 5, 5), torch.randint(0, 3, (3, 4))
    result = per_batch_grads(model, F.cross_entropy, x, y, method=method)
    for i in range(3):
        model.zero_grad()
        loss = F.cross_entropy(model(x[i]), y[i])
        loss.backward()
        assert result.losses[i] == pytest.approx(float(loss.detach()), rel=1e-6)
        for name, parameter in model.named_parameters():
            torch.testing.assert_close(result.grads[name][i], parameter.grad, rtol=1e-5, atol=1e-6)
    assert result.outputs.shape == (3, 4, 3)


@pytest.mark.parametrize("method", ["vmap", "loop"])
def test_same_randomness_compares_batches_under_one_dropout_mask(method: str) -> None:
    model = net(dropout=0.5).train()
    x = torch.randn(1, 4, 1, 5, 5).expand(3, -1, -1, -1, -1)  # three identical mini-batches
    y = torch.randint(0, 3, (4,)).expand(3, -1)
    same = per_batch_grads(model, F.cross_entropy, x, y, method=method, same_randomness=True)
    different = per_batch_grads(model, F.cross_entropy, x, y, method=method, same_randomness=False)
    weight = "5.weight"
    torch.testing.assert_close(same.grads[weight][0], same.grads[weight][2])
    assert not torch.allclose(different.grads[weight][0], different.grads[weight][2])


def test_training_mode_batch_norm_statistics_are_updated_by_both_methods() -> None:
    x, y = torch.randn(2, 4, 1, 5, 5) + 3.0, torch.randint(0, 3, (2, 4))
    for method in ("vmap", "loop"):
        model = net().train()
        per_batch_grads(model, F.cross_entropy, x, y, method=method)
        assert float(model[1].running_mean.abs().max()) > 0.0


def test_frozen_parameters_get_no_gradient() -> None:
    model = net().eval()
    model[0].weight.requires_grad_(False)
    result = per_batch_grads(model, F.cross_entropy, torch.randn(2, 3, 1, 5, 5), torch.randint(0, 3, (2, 3)))
    assert "0.weight" not in result.grads and "5.weight" in result.grads
