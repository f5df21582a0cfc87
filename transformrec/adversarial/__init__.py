"""Adversarial training pieces shared by the learned transforms (LCI, damage & repair) and GANs (ch. 7).

Names are imported on first use (``transformrec.lazy_exports``): a GAN config's ``noise:`` schema
(``noise_config``) is validated without torch.
"""

from transformrec.lazy_exports import lazy_exports

_EXPORTS = {
    "DCGANDiscriminator": "transformrec.adversarial.dcgan",
    "DCGANGenerator": "transformrec.adversarial.dcgan",
    "DistributionFilter": "transformrec.adversarial.distribution_filtering",
    "GANObjective": "transformrec.adversarial.objectives",
    "GaussianNoise": "transformrec.adversarial.distribution_filtering",
    "NetworkNoise": "transformrec.adversarial.distribution_filtering",
    "NoiseGenerator": "transformrec.adversarial.dcgan",
    "WeightAverage": "transformrec.adversarial.weight_average",
    "discriminator_loss": "transformrec.adversarial.distribution_filtering",
    "filtered_batch": "transformrec.adversarial.distribution_filtering",
    "gan_objective": "transformrec.adversarial.objectives",
    "generator_loss": "transformrec.adversarial.distribution_filtering",
    "gradient_penalty": "transformrec.adversarial.objectives",
    "hinge_discriminator_loss": "transformrec.adversarial.objectives",
    "hinge_generator_loss": "transformrec.adversarial.objectives",
    "list_gan_objectives": "transformrec.adversarial.objectives",
    "noise_generator": "transformrec.adversarial.dcgan",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
