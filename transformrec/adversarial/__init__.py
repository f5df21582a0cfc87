"""Adversarial training pieces shared by the learned transforms (LCI, damage & repair) and GANs (ch. 7)."""

from transformrec.adversarial.objectives import (
    GANObjective,
    gan_objective,
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    list_gan_objectives,
)

__all__ = [
    "GANObjective",
    "gan_objective",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "list_gan_objectives",
]
