"""Hinge GAN loss (sec. 4.2.1, [140]) against hand-computed values."""

import torch

from transformrec.adversarial import hinge_discriminator_loss, hinge_generator_loss


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
