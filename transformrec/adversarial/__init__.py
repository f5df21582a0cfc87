"""Adversarial training pieces shared by the learned transforms (LCI, damage & repair) and GANs (ch. 7)."""

from transformrec.adversarial.dcgan import DCGANDiscriminator, DCGANGenerator, NoiseGenerator, noise_generator
from transformrec.adversarial.distribution_filtering import (
    DistributionFilter,
    GaussianNoise,
    NetworkNoise,
    discriminator_loss,
    filtered_batch,
    generator_loss,
)
from transformrec.adversarial.objectives import (
    GANObjective,
    gan_objective,
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    list_gan_objectives,
)
from transformrec.adversarial.weight_average import WeightAverage

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "DistributionFilter",
    "GaussianNoise",
    "NetworkNoise",
    "NoiseGenerator",
    "WeightAverage",
    "discriminator_loss",
    "filtered_batch",
    "generator_loss",
    "noise_generator",
    "GANObjective",
    "gan_objective",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "list_gan_objectives",
]
