"""Adversarial training pieces shared by the learned transforms (LCI, damage & repair) and GANs."""

from transformrec.adversarial.objectives import hinge_discriminator_loss, hinge_generator_loss

__all__ = ["hinge_discriminator_loss", "hinge_generator_loss"]
