"""GAN training with optional distribution filtering (Algorithm 1), sample grids and FID / IS.

A GAN run is the ``kind: gan`` of the experiment schema (:class:`~transformrec.config.gan_schema.GANConfig`:
the knobs of chapter 7 with the thesis' defaults, read by the same loader as pretext configs, with
the same ``--set`` overrides and errors). The trainer takes that options object and its built
images (:class:`GANImages`); :func:`transformrec.config.gan_build.build_gan_trainer` builds both
from a config, so ``build_gan_trainer(config).fit()`` trains on any registered image data set
(Fashion-MNIST by default; images mapped to [−1, 1], the range of G's tanh), writes
``samples_<step>.png`` grids, scores FID / IS at every evaluation and reports mean ± std over the
last five (sec. 7.3). The loop around the step — atomic checkpoints holding every RNG state, exact
resume, ``metrics.csv`` and TensorBoard logs, the progress bar, skipping non-finite steps — is the
shared :class:`~transformrec.training.engine.TrainingEngine`; this module says what one generator
iteration does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torchvision.utils import save_image

from transformrec.adversarial.dcgan import DCGANDiscriminator, DCGANGenerator, noise_generator
from transformrec.adversarial.distribution_filtering import DistributionFilter, GaussianNoise
from transformrec.adversarial.filter_config import build_distribution_filter
from transformrec.adversarial.objectives import gan_objective
from transformrec.adversarial.weight_average import WeightAverage
from transformrec.config.gan_schema import GANConfig
from transformrec.errors import ConfigError
from transformrec.eval.fid import FeatureExtractor, mean_and_std, score_samples
from transformrec.eval.fid_inception import fid_inception_extractor
from transformrec.eval.gan_features import classifier_extractor
from transformrec.runtime.distributed import single_process_context
from transformrec.training.engine import StepOutcome, TrainingEngine, TrainingTask

__all__ = ["GANImages", "GANTrainer", "distribution_filter_for"]


@dataclass
class GANImages:
    """The images a GAN run trains on and is scored against, built once from its config.

    ``train``: images in [−1, 1] (G's tanh range); ``labels``: their classes (−1 when unlabelled;
    the classifier feature extractor of FID needs them); ``test``: loads the evaluation images
    (``eval.samples`` of them) on first use, so a run that never scores never reads its test split.
    """

    train: torch.Tensor
    labels: torch.Tensor
    test: Callable[[], torch.Tensor] | None = None


def distribution_filter_for(config: GANConfig, channels: int = 1) -> DistributionFilter:
    """The noise model and batch construction named by ``config.noise`` (table 7.1 rows).

    N(w) is table 7.2's generator with channels ×1/8; separate input normalisation defaults to
    on exactly when D has no batch normalisation (SNGAN, sec. 7.2.3).
    """
    return build_distribution_filter(
        config.noise,
        lambda: (noise_generator(config.image_size, channels, config.latent_dim, config.width), config.latent_dim),
        discriminator_has_batch_norm=not config.spectral_norm,
        run_steps=config.steps,
    )


def _optimizer(config: GANConfig, params, lr: float | None = None) -> torch.optim.Optimizer:
    lr = config.lr if lr is None else lr
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=config.betas)


class GANTrainer(TrainingTask):
    """Algorithm 1 (and the standard GAN when ``noise.kind == "none"``) for one ``GANConfig``.

    Takes the run's options (``config``) and its built images; the networks, the noise model and
    the optimisers follow from the options. The data set is not built here:
    :func:`~transformrec.config.gan_build.build_gan_trainer` does that (why: the trainer sits below
    the config builders, and a data set built by a caller is used as given).
    """

    progress_label = "gan"
    postfix_keys = ("d_loss", "g_loss")

    def __init__(
        self,
        config: GANConfig,
        images: GANImages,
        extractor: FeatureExtractor | None = None,
        progress: bool = True,
        overwrite: bool = False,
    ) -> None:
        self.config = config
        self.out = Path(config.output_dir)
        torch.manual_seed(config.seed)
        real, self.real_labels = images.train, images.labels
        if tuple(real.shape[-2:]) != (config.image_size, config.image_size):
            raise ConfigError(
                f"data ({config.data.name}): images are {real.shape[-1]}×{real.shape[-2]} px, "
                f"but image_size is {config.image_size}"
            )
        self._load_test_images = images.test
        channels = real.shape[1]
        self.generator = DCGANGenerator(
            config.image_size,
            channels,
            config.latent_dim,
            config.width,
            batch_norm=config.g_batch_norm,
            activation=config.activation,
        )
        self.discriminator = DCGANDiscriminator(
            config.image_size, channels, config.width, spectral_norm=config.spectral_norm, activation=config.activation
        )
        self.filter = distribution_filter_for(config, channels)
        self.ema = None if config.ema_decay is None else WeightAverage(self.generator, config.ema_decay)
        self.objective = gan_objective(config.objective)
        self.g_opt = _optimizer(config, self.generator.parameters())
        self.d_opt = _optimizer(config, self.discriminator.parameters())
        noise_params = [p for p in self.filter.parameters() if p.requires_grad]
        self.noise_opt = _optimizer(config, noise_params, config.noise.lr) if noise_params else None
        self.context = single_process_context(config.device, "GAN training")
        self.device = self.context.device
        for module in (self.generator, self.discriminator, self.filter, self.ema):
            if module is not None:
                module.to(self.device)
        self.real = real.pin_memory() if self.device.type == "cuda" else real
        self._real_test: torch.Tensor | None = None
        self.data_rng = torch.Generator().manual_seed(config.seed)
        self.history: list[dict[str, float]] = []
        self.step_seconds = 0.0
        self.last_losses: dict[str, float] = {}
        self._extractor = extractor
        self._fixed_z = torch.randn(64, config.latent_dim, generator=torch.Generator().manual_seed(config.seed + 1))
        self.engine = TrainingEngine(
            self,
            output_dir=self.out,
            context=self.context,
            checkpoint_every=config.checkpoint_every,
            log_every=config.log_every,
            progress=progress,
            overwrite=overwrite,
        )

    @property
    def total_steps(self) -> int:
        return self.config.steps

    # --- one iteration of Algorithm 1 -------------------------------------------------------
    def _real_batch(self) -> torch.Tensor:
        chosen = torch.randint(len(self.real), (self.config.batch_size,), generator=self.data_rng)
        return self.real[chosen].to(self.device, non_blocking=True)

    def _latent(self) -> torch.Tensor:
        return torch.randn(self.config.batch_size, self.config.latent_dim, device=self.device)

    def _noise_latent(self, z: torch.Tensor) -> torch.Tensor | None:
        """What a noise network is fed with these fakes: their z (``noise.latent: generator``) or its own w."""
        return z if self.config.noise.latent == "generator" else None

    def train_step(self) -> dict[str, float] | None:
        """n_disc discriminator (and noise-model) updates, then one generator update (and its EMA).

        A player whose loss is not finite is not updated, and the step reports ``None`` (the engine
        counts it and stops when it persists).
        """
        g, d, cfg = self.generator, self.discriminator, self.config
        finite = True
        for _ in range(cfg.n_disc):
            real = self._real_batch()
            z = self._latent()
            with torch.no_grad():
                fake = g(z)
            d_loss, penalty = self.filter.discriminator_losses(d, self.objective, real, fake, self._noise_latent(z))
            d_value = float(d_loss.detach())
            if not math.isfinite(d_value):
                finite = False
                continue
            self.filter.update_discriminator(d_loss, penalty, d, self.d_opt, self.noise_opt)
        z = self._latent()
        fake = g(z)
        g_loss = self.filter.generator_loss(d, self.objective, fake, self._noise_latent(z))
        self.g_opt.zero_grad(set_to_none=True)
        g_value = float(g_loss.detach())
        if math.isfinite(g_value):
            g_loss.backward(inputs=list(g.parameters()))
            self.g_opt.step()
            if self.ema is not None:
                self.ema.update(g)
        else:
            finite = False
        self.filter.step()
        if not finite:
            return None
        losses = {"d_loss": d_value, "g_loss": g_value}
        if self.filter.last_noise_rms is not None:
            losses["noise_rms"] = self.filter.last_noise_rms  # ‖ε‖ per pixel: the D-vs-penalty balance
        return losses

    def steps(self) -> Iterator[StepOutcome]:
        while True:
            start = time.perf_counter()
            losses = self.train_step()
            self.step_seconds += time.perf_counter() - start
            if losses is not None:
                self.last_losses = losses
            yield StepOutcome(losses, samples=self.config.batch_size * self.config.n_disc)

    def after_step(self, step: int) -> dict[str, float]:
        cfg = self.config
        if step % cfg.sample_every == 0 or step == cfg.steps:
            self.save_grid()
        if step >= cfg.eval.start and (step % cfg.eval.every == 0 or step == cfg.steps):
            row = self.evaluate()
            if row is not None:
                return {"fid": row["fid"], "is": row["is"]}
        return {}

    # --- outputs ------------------------------------------------------------------------------
    @torch.no_grad()
    def _generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images for latents ``z``: from the weight average with BN in training mode (batch statistics,
        as the authors' code samples it: the live G's running statistics belong to other weights),
        or, without an average, from G in eval mode (its running statistics)."""
        if self.ema is not None:
            network = self.ema.averaged
            network.train()
            return network(z)
        self.generator.eval()
        try:
            return self.generator(z)
        finally:
            self.generator.train()

    def sample(self, count: int, batch: int = 500) -> torch.Tensor:
        """``count`` generated images in [−1, 1], in batches of ``batch`` (see :meth:`_generate`)."""
        chunks = [
            self._generate(torch.randn(min(batch, count - i), self.config.latent_dim, device=self.device)).cpu()
            for i in range(0, count, batch)
        ]
        return torch.cat(chunks)

    def save_grid(self) -> Path:
        """An 8×8 PNG grid of samples from a fixed latent batch, so grids of successive steps are comparable."""
        images = self._generate(self._fixed_z.to(self.device)).cpu()
        path = self.out / f"samples_{self.step:07d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image((images + 1) / 2, path, nrow=8, padding=2, pad_value=1.0)
        return path

    def extractor(self) -> FeatureExtractor | None:
        if self._extractor is None and self.config.eval.extractor != "none":
            ev = self.config.eval
            if ev.extractor == "inception":
                self._extractor = fid_inception_extractor(ev.inception_weights, str(self.device))
            else:
                if int(self.real_labels.min()) < 0:
                    raise ConfigError(
                        f"eval.extractor: classifier needs labelled data, {self.config.data.name} has none; "
                        "use inception or none"
                    )
                cache = ev.extractor_cache or str(self.out / "fid_extractor.pt")
                num_classes = int(self.real_labels.max()) + 1
                self._extractor = classifier_extractor(
                    self.real, self.real_labels, num_classes, cache, ev.extractor_steps
                )
        return self._extractor

    def evaluate(self) -> dict[str, float] | None:
        """FID / IS of ``eval.samples`` generated images against as many test-split images (sec. 7.3)."""
        extractor = self.extractor()
        if extractor is None:
            return None
        if self._real_test is None:
            if self._load_test_images is None:
                raise ConfigError("eval: FID / IS need evaluation images; this run was built without them")
            self._real_test = self._load_test_images()
        scores = score_samples(extractor, self._real_test, self.sample(len(self._real_test)))
        row = {"step": self.step, "fid": scores.fid, "is": scores.inception_score}
        self.history.append(row)
        return row

    # --- checkpoints and summary ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "filter": self.filter.state_dict(),
            "ema": None if self.ema is None else self.ema.state_dict(),
            "g_opt": self.g_opt.state_dict(),
            "d_opt": self.d_opt.state_dict(),
            "noise_opt": None if self.noise_opt is None else self.noise_opt.state_dict(),
            "data_rng": self.data_rng.get_state(),
            "history": self.history,
            "step_seconds": self.step_seconds,
            "last_losses": self.last_losses,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.filter.load_state_dict(state["filter"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
        self.g_opt.load_state_dict(state["g_opt"])
        self.d_opt.load_state_dict(state["d_opt"])
        if self.noise_opt is not None:
            self.noise_opt.load_state_dict(state["noise_opt"])
        self.data_rng.set_state(state["data_rng"])
        self.history = list(state["history"])
        self.step_seconds = state["step_seconds"]
        self.last_losses = dict(state["last_losses"])

    def fit(self, resume: bool = False) -> dict[str, Any]:
        """Train to ``config.steps`` generator iterations; returns (and writes) a JSON summary."""
        return self.engine.fit(resume=resume, map_location="cpu")

    def run_signature(self) -> dict[str, Any]:
        """The config without what may change between a run and its resumption (length, outputs, device)."""
        loose = {"output_dir", "device", "steps", "checkpoint_every", "sample_every", "log_every", "eval"}
        return {k: v for k, v in self.config.model_dump(mode="json").items() if k not in loose}

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "seconds_per_step": self.step_seconds / max(self.step, 1),
            "final_losses": dict(self.last_losses),
            "history": self.history,
            "data": self.config.data.name,
        }
        if self.history:
            summary["fid_last5"] = mean_and_std(row["fid"] for row in self.history)
            summary["is_last5"] = mean_and_std(row["is"] for row in self.history)
        if isinstance(self.filter.noise, GaussianNoise):
            summary["final_sigma"] = float(self.filter.noise.sigma.detach())
        return summary
