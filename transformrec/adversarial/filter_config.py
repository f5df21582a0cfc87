"""The validated description of a distribution filter, shared by the GAN trainer and learned transforms.

One schema (``NoiseConfig``) means a GAN config's ``noise:`` block and the ``distribution_filter``
parameter of the LCI transform accept the same fields with the same errors, and
``build_distribution_filter`` turns either into a ``DistributionFilter``. What differs between
users is only the noise network N(w), whose output must have the discriminator's input shape,
so callers pass a factory for it.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from transformrec.adversarial.distribution_filtering import DistributionFilter, GaussianNoise, NetworkNoise
from transformrec.adversarial.noise_config import NoiseConfig, parse_noise_config

__all__ = ["NoiseConfig", "build_distribution_filter", "parse_noise_config"]


def build_distribution_filter(
    noise: NoiseConfig,
    noise_network: Callable[[], tuple[nn.Module, int]],
    discriminator_has_batch_norm: bool,
    run_steps: int | None = None,
    resize_noise_to_input: bool = False,
) -> DistributionFilter:
    """The ``DistributionFilter`` that ``noise`` describes (table 7.1 rows).

    ``noise_network`` builds N(w) and returns it with its latent size; it is called only for
    ``kind: network``. ``run_steps`` is the default annealing horizon. ``resize_noise_to_input``:
    N(w)'s fixed-size output is resized to the discriminator's input (see ``NetworkNoise``).
    """
    if noise.kind == "none":
        return DistributionFilter(None, "off", separate_normalization=bool(noise.separate_normalization))
    # (noise.latent is the caller's to honour: only it knows the z behind its fakes)
    if noise.kind == "network":
        network, latent_dim = noise_network()
        model: nn.Module = NetworkNoise(network, latent_dim, resize_noise_to_input, noise.penalty_reduction)
    else:
        anneal = 0
        if noise.kind == "annealed":
            anneal = noise.anneal_steps or run_steps or 0
            if anneal < 1:
                raise ValueError("noise.kind 'annealed' needs noise.anneal_steps (how many steps σ takes to reach 0)")
        model = GaussianNoise(noise.sigma, learned=noise.kind == "learned_sigma", anneal_steps=anneal)
    separate = noise.separate_normalization
    if separate is None:
        separate = not discriminator_has_batch_norm
    return DistributionFilter(
        model, noise.mode, noise.penalty, separate_normalization=separate, term_weight=noise.term_weight
    )
