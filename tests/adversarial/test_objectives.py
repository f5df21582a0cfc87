"""GAN objectives (sec. 4.2.1 hinge, table 7.3) against hand-computed values and closed forms."""

import math

import pytest
import torch

from transformrec.adversarial import (
    gan_objective,
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    list_gan_objectives,
)
from transformrec.registry import UnknownNameError


def test_discriminator_hinge_counts_only_scores_inside_the_margin():
    real = torch.tensor([2.0, 0.5])  # max(0, 1 − s): 0, 0.5
    fake = torch.tensor([-2.0, 0.0])  # max(0, 1 + s): 0, 1
    assert torch.isclose(hinge_discriminator_loss(real, fake), torch.tensor(0.25 + 0.5))


def test_discriminator_hinge_averages_every_entry_of_a_score_map():
    real = torch.full((2, 1, 3, 3), 0.0)
    fake = torch.full((2, 1, 3, 3), -0.5)
    assert torch.isclose(hinge_discriminator_loss(real, fake), torch.tensor(1.0 + 0.5))


def test_generator_hinge_is_minus_the_mean_score():
    assert torch.isclose(hinge_generator_loss(torch.tensor([[1.0, 3.0], [-2.0, 2.0]])), torch.tensor(-1.0))


# --- the objectives of table 7.3, against closed forms written with math.log / hand algebra ---


def _sigmoid(s: float) -> float:
    return 1.0 / (1.0 + math.exp(-s))


def test_minimax_discriminator_loss_is_minus_eq_7_1_with_sigmoid_scores():
    real, fake = [0.3, -1.2], [0.7, 2.0]
    expected = -sum(math.log(_sigmoid(s)) for s in real) / 2 - sum(math.log(1 - _sigmoid(s)) for s in fake) / 2
    loss = gan_objective("minimax").discriminator(torch.tensor(real), torch.tensor(fake))
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_minimax_generator_minimises_log_one_minus_d_and_non_saturating_maximises_log_d():
    fake = [0.7, -2.0, 1.5]
    minimax = sum(math.log(1 - _sigmoid(s)) for s in fake) / 3
    non_saturating = -sum(math.log(_sigmoid(s)) for s in fake) / 3
    scores = torch.tensor(fake)
    assert gan_objective("minimax").generator(scores).item() == pytest.approx(minimax, rel=1e-6)
    assert gan_objective("non_saturating").generator(scores).item() == pytest.approx(non_saturating, rel=1e-6)
    assert gan_objective("non_saturating").discriminator is gan_objective("minimax").discriminator


def test_minimax_loss_stays_finite_when_the_discriminator_saturates():
    loss = gan_objective("minimax").discriminator(torch.tensor([200.0]), torch.tensor([-200.0]))
    assert torch.isfinite(loss) and loss.item() == pytest.approx(0.0, abs=1e-30)


def test_least_squares_losses_are_half_mean_squared_distances_to_the_targets():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    objective = gan_objective("least_squares")
    assert objective.discriminator(real, fake).item() == pytest.approx(0.5 * (0 + 4) / 2 + 0.5 * (0 + 4) / 2)
    assert objective.generator(fake).item() == pytest.approx(0.5 * (1 + 9) / 2)


def test_wasserstein_critic_is_mean_fake_minus_mean_real_and_asks_for_a_penalty():
    objective = gan_objective("wgan_gp")
    assert objective.discriminator(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 5.0])).item() == pytest.approx(0.5)
    assert objective.generator(torch.tensor([0.0, 5.0])).item() == pytest.approx(-2.5)
    assert objective.gradient_penalty_weight == 10.0
    assert gan_objective("hinge").gradient_penalty_weight == 0.0


def test_gradient_penalty_of_a_linear_critic_is_the_squared_gap_of_its_weight_norm_to_one():
    weight = torch.tensor([3.0, 4.0])  # ‖∇D‖ = 5 everywhere, so the penalty is (5 − 1)² = 16

    def critic(x: torch.Tensor) -> torch.Tensor:
        return x @ weight

    penalty = gradient_penalty(critic, torch.randn(6, 2), torch.randn(6, 2))
    assert penalty.item() == pytest.approx(16.0)


def test_gradient_penalty_trains_the_critic_through_its_input_gradient():
    weight = torch.tensor([3.0, 4.0], requires_grad=True)
    gradient_penalty(lambda x: x @ weight, torch.randn(4, 2), torch.randn(4, 2)).backward()
    # d/dw (‖w‖ − 1)² = 2(‖w‖ − 1) w / ‖w‖ = 2·4·(0.6, 0.8)
    assert torch.allclose(weight.grad, torch.tensor([4.8, 6.4]))


def test_unknown_objective_names_the_known_ones():
    with pytest.raises(UnknownNameError, match="least_squares"):
        gan_objective("lsgan")
    assert list_gan_objectives() == ["hinge", "least_squares", "minimax", "non_saturating", "wgan_gp"]
