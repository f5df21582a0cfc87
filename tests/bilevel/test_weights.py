"""Tests for transformrec.bilevel.weights: eq. 8.10 against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from transformrec.bilevel.weights import bilevel_weights


def test_eq_8_10_matches_a_hand_computed_example() -> None:
    # g_v = (1, 2); training gradients (1, 0), (0, -1), (2, 2): dots 1, -2, 6 and norms² 1, 1, 8.
    # With μ = 1, λ = 2: ω = 1/1.5, -2/1.5, 6/5 = 2/3, -4/3, 6/5; |ω|₁ = 3.2.
    dots, sq = torch.tensor([1.0, -2.0, 6.0]), torch.tensor([1.0, 1.0, 8.0])
    weights = bilevel_weights(dots, sq, mu=1.0, lambda_=2.0)
    expected = torch.tensor([2 / 3 / 3.2, -4 / 3 / 3.2, 1.2 / 3.2])
    torch.testing.assert_close(weights, expected)
    assert weights.abs().sum() == pytest.approx(1.0)


def test_without_l1_constraint_the_raw_weights_are_returned() -> None:
    weights = bilevel_weights(torch.tensor([1.0, -2.0, 6.0]), torch.tensor([1.0, 1.0, 8.0]), 1.0, 2.0, False)
    torch.testing.assert_close(weights, torch.tensor([2 / 3, -4 / 3, 6 / 5]))


def test_default_mu_and_lambda_of_the_ablation_baseline() -> None:
    # μ = 0.01, λ = 1 (sec. 8.4.1): ω_i = dot_i / (|g_i|² + 0.01).
    weights = bilevel_weights(torch.tensor([3.0, 1.0]), torch.tensor([4.0, 1.0]), l1_normalize=False)
    torch.testing.assert_close(weights, torch.tensor([3 / 4.01, 1 / 1.01]))


def test_per_layer_weights_are_normalised_per_layer() -> None:
    dots = torch.tensor([[1.0, 2.0], [3.0, -2.0]])  # (mini-batches, layers)
    sq = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
    weights = bilevel_weights(dots, sq, mu=1.0, lambda_=1.0)  # ω = dots / 2 before normalisation
    torch.testing.assert_close(weights, torch.tensor([[0.25, 0.5], [0.75, -0.5]]))


def test_all_orthogonal_gradients_give_zero_weights_not_nan() -> None:
    weights = bilevel_weights(torch.zeros(3), torch.ones(3))
    assert torch.equal(weights, torch.zeros(3))


def test_invalid_hyperparameters_are_rejected() -> None:
    with pytest.raises(ValueError, match="lambda_"):
        bilevel_weights(torch.ones(2), torch.ones(2), lambda_=0.0)
    with pytest.raises(ValueError, match="same shape"):
        bilevel_weights(torch.ones(2), torch.ones(3))
