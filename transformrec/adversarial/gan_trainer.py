"""GAN training with optional distribution filtering (Algorithm 1), checkpoints, sample grids and FID / IS.

``GANConfig`` holds the knobs of chapter 7 with the thesis' defaults (sec. 7.3.1: Adam, lr 1e-4,
β₁ = 0.5, batch 64, 100K generator iterations, table 7.2 networks) and the settings the
robustness study varies (table 7.4: lr, BN in G, optimiser, activation, n_disc, n_train).
``GANTrainer(config).fit()`` trains on Fashion-MNIST (images mapped to [−1, 1], the range of
G's tanh), writes ``samples_<step>.png`` grids, scores FID / IS at every evaluation and reports
mean ± std over the last five (sec. 7.3). Checkpoints are written atomically and hold the RNG
states, so ``fit(resume=True)`` continues exactly where a killed run stopped.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from torchvision.utils import save_image

from transformrec.adversarial.dcgan import DCGANDiscriminator, DCGANGenerator, noise_generator
from transformrec.adversarial.distribution_filtering import DistributionFilter, GaussianNoise
from transformrec.adversarial.filter_config import NoiseConfig, build_distribution_filter
from transformrec.adversarial.objectives import gan_objective, list_gan_objectives
from transformrec.atomic_save import save_atomic
from transformrec.config.loading import ConfigError, apply_override, read_config_tree, validation_problems
from transformrec.eval.fid import FeatureExtractor, mean_and_std, score_samples
from transformrec.training.distributed import resolve_device


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvalConfig(_Strict):
    """FID / IS every ``every`` generator steps from ``start`` on, on ``samples`` images (10K in sec. 7.3)."""

    every: int = Field(10_000, ge=1)
    start: int = Field(0, ge=0, description="no evaluation before this step (the thesis scores the last 10%)")
    samples: int = Field(10_000, ge=2)
    extractor: Literal["fashion_mnist", "inception", "none"] = "fashion_mnist"
    inception_weights: str | None = None
    extractor_cache: str | None = Field(None, description="where the offline classifier is stored once trained")
    extractor_steps: int = Field(600, ge=1)


class GANConfig(_Strict):
    """One chapter-7 GAN run; defaults follow sec. 7.3.1 and table 7.2."""

    seed: int = 0
    output_dir: str = "runs/ch7_dfgan"
    data: Literal["fashion_mnist"] = "fashion_mnist"
    image_size: Literal[32, 64] = 32
    train_images: int | None = Field(None, ge=1, description="n_train of table 7.4 (None: the whole split)")
    width: float = Field(1.0, gt=0, description="channel multiplier of table 7.2's networks")
    latent_dim: int = Field(128, ge=1)
    objective: str = "non_saturating"
    spectral_norm: bool = False
    g_batch_norm: bool = True
    activation: Literal["relu", "tanh"] = "relu"
    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float = Field(1e-4, gt=0)
    betas: tuple[float, float] = (0.5, 0.999)
    n_disc: int = Field(1, ge=1)
    batch_size: int = Field(64, ge=2)
    steps: int = Field(100_000, ge=1, description="generator iterations")
    checkpoint_every: int = Field(1000, ge=1)
    sample_every: int = Field(5000, ge=1)
    noise: NoiseConfig = NoiseConfig()
    eval: EvalConfig = EvalConfig()
    device: str = Field("auto", description="auto (CUDA when available), cpu, cuda or cuda:N")

    @field_validator("objective")
    @classmethod
    def _known_objective(cls, name: str) -> str:
        if name not in list_gan_objectives():
            raise ValueError(f"objective {name!r} is not one of {', '.join(list_gan_objectives())}")
        return name


def load_gan_config(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> GANConfig:
    """Read a GAN YAML config (``yaml.safe_load``) with ``--set`` overrides; errors name file and field."""
    source = str(path) if path is not None else "defaults"
    tree = read_config_tree(path)
    for assignment in overrides:
        apply_override(tree, assignment)
    try:
        return GANConfig.model_validate(tree)
    except ValidationError as error:
        lines = [f"{source}: {problem}" for problem in validation_problems(error)]
        raise ConfigError("invalid GAN config:\n  " + "\n  ".join(lines)) from None


def distribution_filter_for(config: GANConfig) -> DistributionFilter:
    """The noise model and batch construction named by ``config.noise`` (table 7.1 rows).

    N(w) is table 7.2's generator with channels ×1/8; separate input normalisation defaults to
    on exactly when D has no batch normalisation (SNGAN, sec. 7.2.3).
    """
    return build_distribution_filter(
        config.noise,
        lambda: (noise_generator(config.image_size, 1, config.latent_dim, config.width), config.latent_dim),
        discriminator_has_batch_norm=not config.spectral_norm,
        run_steps=config.steps,
    )


def _optimizer(config: GANConfig, params, lr: float | None = None) -> torch.optim.Optimizer:
    lr = config.lr if lr is None else lr
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=config.betas)


def fashion_mnist_images(split: str, image_size: int, count: int | None = None) -> torch.Tensor:
    """Fashion-MNIST images in [−1, 1], the range of G's tanh output."""
    from transformrec.data.fashion_mnist import FashionMNIST

    return FashionMNIST(split=split, image_size=image_size).stacked(count) * 2 - 1


class GANTrainer:
    """Algorithm 1 (and the standard GAN when ``noise.kind == "none"``) for one ``GANConfig``."""

    def __init__(self, config: GANConfig, extractor: FeatureExtractor | None = None) -> None:
        self.config = config
        self.out = Path(config.output_dir)
        torch.manual_seed(config.seed)
        self.generator = DCGANGenerator(
            config.image_size,
            1,
            config.latent_dim,
            config.width,
            batch_norm=config.g_batch_norm,
            activation=config.activation,
        )
        self.discriminator = DCGANDiscriminator(
            config.image_size, 1, config.width, spectral_norm=config.spectral_norm, activation=config.activation
        )
        self.filter = distribution_filter_for(config)
        self.objective = gan_objective(config.objective)
        self.g_opt = _optimizer(config, self.generator.parameters())
        self.d_opt = _optimizer(config, self.discriminator.parameters())
        noise_params = [p for p in self.filter.parameters() if p.requires_grad]
        self.noise_opt = _optimizer(config, noise_params, config.noise.lr) if noise_params else None
        self.device = resolve_device(config.device)
        for module in (self.generator, self.discriminator, self.filter):
            module.to(self.device)
        real = fashion_mnist_images("train", config.image_size, config.train_images)
        self.real = real.pin_memory() if self.device.type == "cuda" else real
        self.data_rng = torch.Generator().manual_seed(config.seed)
        self.step = 0
        self.history: list[dict[str, float]] = []
        self.step_seconds = 0.0
        self._extractor = extractor
        self._fixed_z = torch.randn(64, config.latent_dim, generator=torch.Generator().manual_seed(config.seed + 1))

    # --- one iteration of Algorithm 1 -------------------------------------------------------
    def _real_batch(self) -> torch.Tensor:
        chosen = torch.randint(len(self.real), (self.config.batch_size,), generator=self.data_rng)
        return self.real[chosen].to(self.device, non_blocking=True)

    def train_step(self) -> dict[str, float]:
        """n_disc discriminator (and noise-model) updates, then one generator update."""
        g, d, cfg = self.generator, self.discriminator, self.config
        for _ in range(cfg.n_disc):
            real = self._real_batch()
            with torch.no_grad():
                fake = g(torch.randn(cfg.batch_size, cfg.latent_dim, device=self.device))
            d_loss, penalty = self.filter.discriminator_losses(d, self.objective, real, fake)
            self.filter.update_discriminator(d_loss, penalty, d, self.d_opt, self.noise_opt)
        fake = g(torch.randn(cfg.batch_size, cfg.latent_dim, device=self.device))
        g_loss = self.filter.generator_loss(d, self.objective, fake)
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(g.parameters()))
        self.g_opt.step()
        self.filter.step()
        self.step += 1
        return {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach())}

    # --- outputs ------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, count: int, batch: int = 500) -> torch.Tensor:
        """``count`` generated images in [−1, 1] (G in eval mode: BN running statistics)."""
        self.generator.eval()
        try:
            chunks = [
                self.generator(torch.randn(min(batch, count - i), self.config.latent_dim, device=self.device)).cpu()
                for i in range(0, count, batch)
            ]
        finally:
            self.generator.train()
        return torch.cat(chunks)

    def save_grid(self) -> Path:
        """An 8×8 PNG grid of samples from a fixed latent batch, so grids of successive steps are comparable."""
        self.generator.eval()
        with torch.no_grad():
            images = self.generator(self._fixed_z.to(self.device)).cpu()
        self.generator.train()
        path = self.out / f"samples_{self.step:07d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image((images + 1) / 2, path, nrow=8, padding=2, pad_value=1.0)
        return path

    def extractor(self) -> FeatureExtractor | None:
        if self._extractor is None and self.config.eval.extractor != "none":
            from transformrec.eval.gan_features import fashion_mnist_extractor, inception_extractor

            ev = self.config.eval
            if ev.extractor == "inception":
                if ev.inception_weights is None:
                    raise ConfigError("eval.extractor: inception needs eval.inception_weights (a local file)")
                self._extractor = inception_extractor(ev.inception_weights)
            else:
                cache = ev.extractor_cache or str(self.out / "fid_extractor.pt")
                self._extractor = fashion_mnist_extractor(cache, ev.extractor_steps, self.config.image_size)
        return self._extractor

    def evaluate(self) -> dict[str, float] | None:
        """FID / IS of ``eval.samples`` generated images against as many test-split images (sec. 7.3)."""
        extractor = self.extractor()
        if extractor is None:
            return None
        real = fashion_mnist_images("test", self.config.image_size, self.config.eval.samples)
        scores = score_samples(extractor, real, self.sample(len(real)))
        row = {"step": self.step, "fid": scores.fid, "is": scores.inception_score}
        self.history.append(row)
        return row

    # --- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "filter": self.filter.state_dict(),
            "g_opt": self.g_opt.state_dict(),
            "d_opt": self.d_opt.state_dict(),
            "noise_opt": None if self.noise_opt is None else self.noise_opt.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
            "data_rng": self.data_rng.get_state(),
            "history": self.history,
            "step_seconds": self.step_seconds,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = state["step"]
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.filter.load_state_dict(state["filter"])
        self.g_opt.load_state_dict(state["g_opt"])
        self.d_opt.load_state_dict(state["d_opt"])
        if self.noise_opt is not None:
            self.noise_opt.load_state_dict(state["noise_opt"])
        torch.set_rng_state(state["torch_rng"])
        if self.device.type == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        self.data_rng.set_state(state["data_rng"])
        self.history = list(state["history"])
        self.step_seconds = state["step_seconds"]

    @property
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoint.pt"

    def save_checkpoint(self) -> Path:
        return save_atomic(self.state_dict(), self.checkpoint_path)

    def fit(self, resume: bool = False) -> dict[str, Any]:
        """Train to ``config.steps`` generator iterations; returns (and writes) a JSON summary."""
        cfg = self.config
        if resume and self.checkpoint_path.exists():
            self.load_state_dict(torch.load(self.checkpoint_path, map_location="cpu", weights_only=True))
        losses: dict[str, float] = {}
        while self.step < cfg.steps:
            start = time.perf_counter()
            losses = self.train_step()
            self.step_seconds += time.perf_counter() - start
            if self.step % cfg.sample_every == 0 or self.step == cfg.steps:
                self.save_grid()
            if self.step >= cfg.eval.start and (self.step % cfg.eval.every == 0 or self.step == cfg.steps):
                self.evaluate()
            if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                self.save_checkpoint()
        return self.summary(losses)

    def summary(self, losses: dict[str, float] | None = None) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "steps": self.step,
            "seconds_per_step": self.step_seconds / max(self.step, 1),
            "final_losses": losses or {},
            "history": self.history,
        }
        if self.history:
            summary["fid_last5"] = mean_and_std(row["fid"] for row in self.history)
            summary["is_last5"] = mean_and_std(row["is"] for row in self.history)
        if isinstance(self.filter.noise, GaussianNoise):
            summary["final_sigma"] = float(self.filter.noise.sigma.detach())
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2))
        return summary
