"""The ``kind: gan`` run of the experiment schema: one chapter-7 GAN run, defaults from sec. 7.3.1.

Defaults follow the thesis (Adam, lr 1e-4, β₁ = 0.5, batch 64, 100K generator iterations,
table 7.2 networks) and expose the settings the robustness study varies (table 7.4: lr, BN in G,
optimiser, activation, n_disc, n_train). ``data`` is any registered image data set (Fashion-MNIST
by default); its images are mapped to [−1, 1], the range of G's tanh, and FID / IS compare
samples with the same data set's ``split: test`` (or ``eval.real_data``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from transformrec.adversarial.noise_config import NoiseConfig
from transformrec.component_index import Components
from transformrec.config.schema import DATASETS, Component, RunConfig, Strict, check_registered

GAN_OBJECTIVES = Components("gan objective")


class GANEvalConfig(Strict):
    """FID / IS every ``every`` generator steps from ``start`` on, on ``samples`` images (10K in sec. 7.3).

    ``extractor``: ``classifier`` (a small CNN trained once on the training data's labels, the
    offline stand-in for Inception), ``inception`` (the standard FID Inception network, so scores compare
    with published FIDs; its weights are downloaded once with their checksum, or read from
    ``inception_weights``) or ``none``. ``fashion_mnist`` is read as ``classifier`` (its name before any data set could
    be used). ``real_data``: the images samples are compared with (default: ``data`` with ``split: test``).
    """

    every: int = Field(10_000, ge=1, description="generator steps between FID / IS evaluations")
    start: int = Field(0, ge=0, description="no evaluation before this step (the thesis scores the last 10%)")
    samples: int = Field(10_000, ge=2, description="generated (and real) images per evaluation")
    extractor: Literal["classifier", "inception", "none"] = Field(
        "classifier", description="features for FID / IS: offline classifier, the FID Inception network, or none"
    )
    inception_weights: str | None = Field(
        None,
        description="a local copy of the FID Inception weights (pt_inception-2015-12-05-6726825d.pth); "
        "null: download them once",
    )
    extractor_cache: str | None = Field(None, description="where the offline classifier is stored once trained")
    extractor_steps: int = Field(600, ge=1, description="training steps of the offline classifier")
    real_data: Component | None = Field(
        None, description="images samples are compared with (default: data, split test)"
    )

    @field_validator("extractor", mode="before")
    @classmethod
    def _old_extractor_name(cls, name: Any) -> Any:
        return "classifier" if name == "fashion_mnist" else name

    @field_validator("real_data")
    @classmethod
    def _known_real_data(cls, component: Component | None) -> Component | None:
        return None if component is None else check_registered(component, DATASETS, "dataset")


class GANConfig(RunConfig):
    """One chapter-7 GAN run (``kind: gan``); defaults follow sec. 7.3.1 and table 7.2."""

    kind: Literal["gan"] = Field("gan", description="a chapter-7 GAN run")
    output_dir: str = Field("runs/ch7_dfgan", description="the run's folder; ~ and $VARIABLES are expanded")
    data: Component = Field(
        default_factory=lambda: Component(name="fashion_mnist", params={"split": "train"}),
        description="the training images (any registered image data set)",
    )
    image_size: Literal[32, 64] = Field(32, description="side of generated images (table 7.2's two networks)")
    train_images: int | None = Field(None, ge=1, description="n_train of table 7.4 (None: the whole split)")
    width: float = Field(1.0, gt=0, description="channel multiplier of table 7.2's networks")
    latent_dim: int = Field(128, ge=1, description="dimension of G's input z ~ N(0, I)")
    objective: str = Field("non_saturating", description="GAN objective of table 7.3 (minimax, hinge, wgan_gp, ...)")
    spectral_norm: bool = Field(False, description="spectral normalisation in D (SNGAN)")
    g_batch_norm: bool = Field(True, description="batch normalisation in G (table 7.4 turns it off)")
    activation: Literal["relu", "tanh"] = Field("relu", description="G's hidden activation (table 7.4)")
    optimizer: Literal["adam", "sgd"] = Field("adam", description="optimiser of G and D (table 7.4)")
    lr: float = Field(1e-4, gt=0, description="learning rate of G and D")
    betas: tuple[float, float] = Field((0.5, 0.999), description="Adam's betas")
    n_disc: int = Field(1, ge=1, description="discriminator steps per generator step (table 7.4)")
    batch_size: int = Field(64, ge=2, description="images per batch")
    steps: int = Field(100_000, ge=1, description="generator iterations")
    checkpoint_every: int = Field(1000, ge=1, description="generator steps between checkpoints")
    sample_every: int = Field(5000, ge=1, description="generator steps between sample grids (samples_<step>.png)")
    log_every: int = Field(10, ge=1, description="steps between metric rows (CSV, TensorBoard, progress)")
    ema_decay: float | None = Field(
        0.99,
        ge=0,
        lt=1,
        description="FID / IS and sample grids come from an exponential moving average of G's weights with this "
        "decay, sampled with BN in training mode (the authors' code: 0.9999 over 100K steps); null: G itself. "
        "The default is measured: over 3 seeds of 3000 steps on Fashion-MNIST, 0.99 gave the lowest FID (26.4 against "
        "27.8 at 0.999 and 0.9999 and 30.4 from G; benchmarks/RESULTS.md, dfgan)",
    )
    noise: NoiseConfig = Field(NoiseConfig(), description="distribution filtering: the noise model and its penalty")
    eval: GANEvalConfig = Field(GANEvalConfig(), description="FID / IS evaluation during training")

    @field_validator("objective")
    @classmethod
    def _known_objective(cls, name: str) -> str:
        if name not in GAN_OBJECTIVES:
            raise ValueError(f"objective {name!r} is not one of {', '.join(GAN_OBJECTIVES.names())}")
        return name
