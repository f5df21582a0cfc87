"""The ``noise:`` block of a GAN config and the LCI transform's ``distribution_filter``: one schema.

Kept free of torch (pydantic only), so a config is validated before anything heavy is imported;
``filter_config.build_distribution_filter`` turns it into a ``DistributionFilter``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from transformrec.errors import validation_problems
from transformrec.strict_numbers import StrictNumbers

FilterMode = Literal["off", "clean_and_noisy", "half_noisy", "noisy_only"]
PenaltyReduction = Literal["sum", "mean"]
NoiseKind = Literal["none", "gaussian", "learned_sigma", "annealed", "network"]
NoiseLatent = Literal["generator", "own"]


class NoiseConfig(StrictNumbers):
    """The noise model p_ε (sec. 7.2.1, table 7.1): none (standard GAN), Gaussian, learned σ, annealed σ, N(w)."""

    model_config = ConfigDict(extra="forbid")

    kind: NoiseKind = Field(
        "network", description="none (standard GAN), gaussian, learned_sigma, annealed or network N(w)"
    )
    mode: FilterMode = Field("clean_and_noisy", description="which images D sees filtered (sec. 7.2.2, table 7.1)")
    sigma: float = Field(1.0, ge=0, description="σ of Gaussian noise (its start, when learned or annealed)")
    penalty: float = Field(1.0, ge=0, description="λ of the noise penalty λΓ (eq. 7.8); table 7.1 (g) uses 1")
    penalty_reduction: PenaltyReduction = Field(
        "mean",
        description="Γ of a noise network: the per-pixel 'mean' of ε² (the authors' code; default, so λ acts) or "
        "the 'sum' per image (the text's E|N(w)|², which at 32 px outweighs D's term for every λ in 0.1–10)",
    )
    lr: float | None = Field(
        None,
        gt=0,
        description="noise-model learning rate (default: the discriminator's, as the authors' code steps N(w) with "
        "D's optimiser; with Adam the step size, not λ, sets how fast ‖ε‖ can move, so raise it when noise_rms "
        "lags behind D)",
    )
    anneal_steps: int | None = Field(
        None, ge=1, description="steps over which an annealed σ decays to 0 (default: the whole run, where known)"
    )
    latent: NoiseLatent = Field(
        "generator",
        description="what a noise network is fed: 'generator' = G's own z for the fakes (the authors' code; where "
        "there is no z, e.g. LCI, its own draw), 'own' = a fresh w ~ N(0, I) (the thesis's sec. 7.2.1)",
    )
    term_weight: float = Field(
        1.0,
        gt=0,
        description="weight of each of D's clean and noisy terms: 1 = their sum, as eq. 7.8 reads (default), "
        "0.5 = their mean, as the authors' code (whose λ is then half ours)",
    )
    separate_normalization: bool | None = Field(
        None,
        description="standardise the noisy real and noisy fake groups separately before D (sec. 7.2.3); "
        "default: on when D has no batch normalisation and noise is used",
    )


def parse_noise_config(spec: NoiseConfig | Mapping[str, Any] | None, owner: str) -> NoiseConfig:
    """``spec`` validated; errors name ``owner`` (e.g. ``lci.distribution_filter``) and the field."""
    if spec is None:
        return NoiseConfig(kind="none")
    if isinstance(spec, NoiseConfig):
        return spec
    try:
        return NoiseConfig.model_validate(dict(spec))
    except ValidationError as error:
        raise ValueError(f"{owner}: {'; '.join(validation_problems(error))}") from None
