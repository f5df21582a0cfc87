"""Damage & repair (chapter 3): learning features by spotting images with artifacts.

An autoencoder {E, D}, pre-trained with L_auto (eq. 3.3), replicates real images: the *real*
class is D(E(x)), not x, so that the classifier cannot tell the classes apart by the decoder's
processing patterns (sec. 3.3.2). The *damaged* class drops each entry of φ(x) = E(x) with
probability θ, replaces it by a uniform-kernel average (sec. 3.3.1) and decodes with D̂, the
decoder with the repair blocks R₁…R₅ (eqs. 3.1, 3.2). R is trained adversarially against the
transformation classifier C (eq. 3.4) while E and D stay frozen. C gets a second, dense head that
predicts Ω per feature-grid cell (L_mask). Half of the damaged examples of every batch come from a
history of past ones (sec. 3.4.1 (f)).

Where the thesis leaves a choice open, the defaults follow the authors' code
(sjenni/LearningToSpotArtifacts ``models/SpotNet.py``, ``layers.py``): dropped cells are filled with
their 3×3 average; R minimises the non-saturating form of eq. 3.4 (C's cross-entropy on its
outputs for the label *real*, i.e. −log C^class(real), instead of maximising C's loss for
*damaged*, whose gradient vanishes as soon as C is confident) plus 30 × the squared error to the
input on the pixels of kept cells, which keeps R from rewriting what was not damaged; the mask head
has weight 0.1 in C's loss and targets all-ones on real images (no cell of a real image was dropped).

In the framework's terms the transform contributes the two classes ``real`` and ``damaged`` to
its head (the binary C^class of eq. 3.4 as a 2-way softmax) and the dense head ``mask``. The
``real`` class is this task's untransformed class, so ``identity`` beside it is refused. Other
transforms (e.g. rotation) can be added: their inputs are autoencoded too (``decoy_for``), so
that every image C sees has passed through the same decoder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from transformrec.atomic_save import save_atomic
from transformrec.functional.feature_damage import damage_features, sample_keep_mask
from transformrec.runtime.distributed import average_gradients
from transformrec.runtime.own_step import step_own_parameters
from transformrec.transforms.base import IGNORE_INDEX, LearnedTransform
from transformrec.transforms.classifier_feedback import classifier_loss
from transformrec.transforms.corrupt_history import CorruptHistory
from transformrec.transforms.damage_repair_networks import Decoder, Encoder, RepairNetwork
from transformrec.transforms.registry import register_transform

REAL, DAMAGED = 0, 1


def linear_decay(step: int, total: int | None, start: float, end: float) -> float:
    """Learning rate decayed linearly from ``start`` to ``end`` over ``total`` steps (sec. 3.3.4)."""
    if not total:
        return start
    return start + (end - start) * min(step / total, 1.0)


@register_transform("damage_repair", run_inputs=("channels", "seed"))
class DamageRepair(LearnedTransform):
    """The damage & repair transform with its autoencoder, repair network and their optimisers.

    Args:
        channels: image channels (filled from the dataset by config builds).
        width: channels of E₁ (32 in the thesis); every layer of E, D and R scales with it.
        drop_rate: θ, the probability of dropping a feature entry (0.7 for transfer, sec. 3.4.2;
            table 3.1 (g)–(j) vary it, its baseline is 0.5).
        fill: ``"average"`` (u * φ, the thesis) or ``"noise"`` (the equivalent alternative).
        average_kernel: side of the uniform kernel u, in feature-grid cells (odd; the thesis only
            says "large"; the authors' code: 3; windows are clipped at the grid border).
        repair_loss: ``"non_saturating"`` (the authors' code: R minimises C's cross-entropy for
            *real*) or ``"minimax"`` (eq. 3.4 as written: R maximises it for *damaged*).
        lambda_kept: weight of the squared error between R's output and the input on the pixels of
            kept cells (the authors' code: 30; 0 switches it off).
        mask_weight: weight of the mask head's loss in C's (the authors' code: 0.1).
        mask_on_real: real images get all-ones mask targets (the authors' code); else only damaged
            images have mask targets.
        encoder_kernel: 2 (the thesis, 18×18 fields) or 3 (ablation (d), 33×33 fields).
        repair: ``"distributed"`` across the decoder or ``"local"`` before D₁ (ablation (c)).
        gating: gate the repair blocks' outputs by the drop mask (ablation (e) switches it off).
        autoencoded_real: real examples are D(E(x)) (sec. 3.3.2); ``False`` is ablation (a), raw x.
        mask_head: declare the dense mask head and its targets (ablation (b) switches it off).
        history: replace half of the damaged examples by past ones (ablation (f) switches it off).
        history_size: capacity of that buffer, in images.
        mask_tap: backbone tap the 3×3 mask-prediction convolution reads (AlexNet conv5, sec. 3.3.4).
        pretrain_steps: Adam steps of L_auto on real batches before the main loop (sec. 3.3.2).
        autoencoder: path of a file written by :meth:`save_autoencoder`; loaded instead of
            pre-training (one autoencoder can serve several runs, as it does not depend on R or C).
        lr: Adam's initial learning rate (3e-4, sec. 3.3.4), for the autoencoder over
            ``pretrain_steps`` and for R over ``lr_decay_steps``.
        final_lr: the learning rate the linear decay ends at (3e-6).
        betas: Adam's betas (β₁ = 0.5).
        lr_decay_steps: steps over which R's learning rate decays (None: constant).
        decoy_for: transforms whose inputs are autoencoded too, when ``autoencoded_real``.
        seed: seeds the generator :meth:`update` draws its masks from.
    """

    conflicts_with = ("identity",)

    def __init__(
        self,
        channels: int = 3,
        width: int = 32,
        drop_rate: float = 0.7,
        fill: str = "average",
        average_kernel: int = 3,
        encoder_kernel: int = 2,
        repair: str = "distributed",
        gating: bool = True,
        autoencoded_real: bool = True,
        mask_head: bool = True,
        history: bool = True,
        history_size: int = 512,
        mask_tap: str = "conv5",
        repair_loss: str = "non_saturating",
        lambda_kept: float = 30.0,
        mask_weight: float = 0.1,
        mask_on_real: bool = True,
        pretrain_steps: int = 2000,
        autoencoder: str | None = None,
        lr: float = 3e-4,
        final_lr: float = 3e-6,
        betas: tuple[float, float] = (0.5, 0.999),
        lr_decay_steps: int | None = None,
        decoy_for: tuple[str, ...] | list[str] = ("rotation", "warp"),
        seed: int = 0,
    ) -> None:
        super().__init__()
        if not 0.0 <= drop_rate <= 1.0:
            raise ValueError(f"damage_repair drop_rate must lie in [0, 1], got {drop_rate}")
        if pretrain_steps < 0:
            raise ValueError(f"pretrain_steps must be >= 0, got {pretrain_steps}")
        if repair_loss not in ("non_saturating", "minimax"):
            raise ValueError(f"damage_repair repair_loss must be 'non_saturating' or 'minimax', got {repair_loss!r}")
        if lambda_kept < 0 or mask_weight < 0:
            raise ValueError(
                f"damage_repair lambda_kept and mask_weight must be >= 0, got {lambda_kept}, {mask_weight}"
            )
        self.repair_loss, self.lambda_kept = repair_loss, lambda_kept
        self.mask_weight, self.mask_on_real = mask_weight, mask_on_real
        self.channels, self.width, self.drop_rate = channels, width, drop_rate
        self.fill, self.average_kernel, self.encoder_kernel = fill, average_kernel, encoder_kernel
        self.gating, self.autoencoded_real, self.mask_head = gating, autoencoded_real, mask_head
        self.use_history, self.mask_tap = history, mask_tap
        self.pretrain_steps, self.autoencoder_path = pretrain_steps, autoencoder
        self.lr, self.final_lr, self.betas, self.lr_decay_steps = lr, final_lr, tuple(betas), lr_decay_steps
        self.decoy_for = tuple(decoy_for) if autoencoded_real else ()
        self.encoder = Encoder(channels, width, encoder_kernel)
        self.decoder = Decoder(channels, width)
        self.repair = RepairNetwork(self.decoder, repair, gating)
        self.encoder.requires_grad_(False)
        self.decoder.requires_grad_(False)
        if autoencoder is not None:
            self.load_autoencoder(autoencoder)
        self.repair_optimizer = torch.optim.Adam(self.repair.parameters(), lr=lr, betas=self.betas)
        self._autoencoder_parameters = [*self.encoder.parameters(), *self.decoder.parameters()]
        self.autoencoder_optimizer = torch.optim.Adam(self._autoencoder_parameters, lr=lr, betas=self.betas)
        self.history = CorruptHistory(history_size) if history else None
        self.generator = torch.Generator().manual_seed(seed)
        self.repair_steps = 0
        self.pretrain_losses: list[float] = []
        self._pretraining = False
        self.class_label: dict[str, int] = {"real": REAL, "damaged": DAMAGED}
        self.train()

    # ------------------------------------------------------------------ Transform contract
    def variant_names(self) -> tuple[str, ...]:
        return ("real", "damaged")

    def dense_heads(self) -> dict[str, str]:
        """The mask head C^mask (sec. 3.3.3), read from ``mask_tap``; absent in ablation (b)."""
        return {"mask": self.mask_tap} if self.mask_head else {}

    def head_weights(self) -> dict[str, float]:
        """The mask head's weight in C's loss (``mask_weight``)."""
        return {"mask": self.mask_weight} if self.mask_head else {}

    def bind_labels(self, head: str, labels: dict[str, int]) -> None:
        """Told by the TransformSet which label indices "real" and "damaged" have (for R's loss)."""
        self.head, self.class_label = head, dict(labels)

    def train(self, mode: bool = True) -> DamageRepair:
        """R follows ``mode``; the pre-trained E and D always run in eval mode outside pre-training."""
        super().train(mode)
        if not self._pretraining:
            self.encoder.eval()
            self.decoder.eval()
        return self

    def grid_size(self, height: int, width: int) -> tuple[int, int]:
        """M × N, the spatial size of φ(x) for an H × W image."""
        return height // 16, width // 16

    def autoencode(self, images: torch.Tensor) -> torch.Tensor:
        """D(E(x)): the replicated real image (sec. 3.3.2)."""
        return self.decoder(self.encoder(images))

    def corrupt(
        self, images: torch.Tensor, keep: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """D̂(φ̂(x)) for keep mask Ω (``B×1×M×N``); differentiable w.r.t. R's parameters."""
        keep = keep.to(images.device, images.dtype)
        with torch.no_grad():
            damaged = damage_features(self.encoder(images), keep, self.fill, self.average_kernel, generator)
        return self.decoder(damaged, self.repair, keep)

    def sample_keep(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A fresh Ω for every image (the same image gets a different mask each epoch)."""
        rows, cols = self.grid_size(*images.shape[-2:])
        return sample_keep_mask(images.shape[0], rows, cols, self.drop_rate, generator).to(images.device)

    def apply(self, batch, variant, generator=None):
        """``real``: D(E(x)) (raw x in ablation (a)); ``damaged``: D̂(φ̂(x)), half from the history.

        Targets of the mask head: Ω (1 = kept) on damaged samples; all ones on real ones with
        ``mask_on_real`` (nothing was dropped), else ``IGNORE_INDEX`` (L_mask over corrupted images only).
        """
        variant = variant.to(batch.device)
        out = batch.clone()
        rows, cols = self.grid_size(*batch.shape[-2:])
        mask_target = torch.full((batch.shape[0], rows, cols), IGNORE_INDEX, dtype=torch.long)
        real, damaged = (variant == REAL).nonzero().flatten(), (variant == DAMAGED).nonzero().flatten()
        with torch.no_grad():
            if real.numel() and self.autoencoded_real:
                out[real] = self.autoencode(batch[real])
            if real.numel() and self.mask_on_real:
                mask_target[real.cpu()] = 1
            if damaged.numel():
                images = batch[damaged]
                keep = self.sample_keep(images, generator)
                corrupted = self.corrupt(images, keep, generator)
                if self.history is not None:
                    corrupted, keep = self.history.mix(corrupted, keep, generator)
                out[damaged] = corrupted
                mask_target[damaged.cpu()] = keep[:, 0].long().cpu()
        return out, ({"mask": mask_target} if self.mask_head else {})

    def make_decoys(
        self, batch: torch.Tensor, generator: torch.Generator | None = None, differentiable: bool = False
    ) -> torch.Tensor:
        """Every input of the transforms in ``decoy_for`` autoencoded, like the real class (sec. 3.3.2).

        The autoencoder is frozen, so there is no gradient to keep: ``differentiable`` changes nothing.
        """
        with torch.no_grad():
            return self.autoencode(batch)

    def renderings(
        self, images: torch.Tensor, drop_rates: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9), seed: int = 0
    ) -> dict[str, torch.Tensor]:
        """Columns of figs. 3.3 / 3.6: ``input``, ``real`` D(E(x)), ``θ=…`` damaged and repaired at
        each drop rate, and ``θ=0.5 no repair`` (D on φ̂, fig. 3.3 (c)).

        The masks are nested: one uniform draw per cell, dropped where it falls below θ, so a
        higher θ drops a superset of the entries of a lower one. The history is not used.
        """
        rows, cols = self.grid_size(*images.shape[-2:])
        draw = torch.rand((images.shape[0], 1, rows, cols), generator=torch.Generator().manual_seed(seed))
        columns = {"input": images}
        with torch.no_grad():
            columns["real"] = self.autoencode(images)
            features = self.encoder(images)
            for rate in drop_rates:
                keep = (draw >= rate).float().to(images.device)
                columns[f"θ={rate}"] = self.corrupt(images, keep, torch.Generator().manual_seed(seed))
            keep = (draw >= 0.5).float().to(images.device)
            noise = torch.Generator().manual_seed(seed)
            damaged = damage_features(features, keep, self.fill, self.average_kernel, noise)
            columns["θ=0.5 no repair"] = self.decoder(damaged)
        return columns

    # ------------------------------------------------------------------ learning
    def repair_losses(self, real_batch: torch.Tensor, classifier: nn.Module) -> dict[str, torch.Tensor]:
        """R's side of eq. 3.4 on D̂(φ̂(x)); C's buffers are left untouched.

        R minimises ``repair``: with ``"minimax"`` that is −``class``, C's cross-entropy for label
        damaged (−log C^class(damaged)); with ``"non_saturating"`` it is ``fool``, C's cross-entropy
        on the same images for label real. Plus ``lambda_kept`` × ``kept``, the mean squared error to
        the input over the pixels of kept cells (each cell's Ω upsampled to its pixels).
        """
        keep = self.sample_keep(real_batch, self.generator)
        corrupted = self.corrupt(real_batch, keep, self.generator)
        damaged = self.class_label["damaged"]
        if self.repair_loss == "minimax":
            terms = {"class": classifier_loss(classifier, corrupted, self.head, damaged)}
            terms["repair"] = -terms["class"]
        else:
            terms = {"fool": classifier_loss(classifier, corrupted, self.head, damaged, self.class_label["real"])}
            terms["repair"] = terms["fool"]
        if self.lambda_kept > 0:
            kept = F.interpolate(keep.to(real_batch.dtype), size=real_batch.shape[-2:], mode="nearest")
            squared = (corrupted - real_batch).pow(2) * kept
            terms["kept"] = squared.sum() / (kept.sum() * real_batch.shape[1]).clamp_min(1)
            terms["repair"] = terms["repair"] + self.lambda_kept * terms["kept"]
        return terms

    def update(self, real_batch: torch.Tensor, classifier: nn.Module) -> dict[str, float]:
        """One Adam step of R against C (adversarial training of sec. 3.3.3); E and D stay frozen."""
        terms = self.repair_losses(real_batch, classifier)
        for group in self.repair_optimizer.param_groups:
            group["lr"] = linear_decay(self.repair_steps, self.lr_decay_steps, self.lr, self.final_lr)
        # Only R's gradients: C's parameters are in the graph but C steps on its own loss.
        step_own_parameters(terms["repair"], self.repair.parameters(), self.repair_optimizer)
        self.repair_steps += 1
        return {f"damage_repair/{name}": float(value.detach()) for name, value in terms.items()}

    def autoencoder_loss(self, images: torch.Tensor) -> torch.Tensor:
        """L_auto (eq. 3.3) as a mean over pixels: |D(E(x)) − x|²."""
        return F.mse_loss(self.autoencode(images), images)

    # ------------------------------------------------------------------ L_auto pre-training phase
    def pretraining_length(self) -> int:
        """``pretrain_steps`` Adam steps of L_auto (sec. 3.3.2); none when a pre-trained ``autoencoder`` was loaded."""
        return 0 if self.autoencoder_path is not None else self.pretrain_steps

    def enter_pretraining(self) -> None:
        self._pretraining = True
        for network in (self.encoder, self.decoder):
            network.requires_grad_(True)
            network.train()

    def pretrain_step(self, real_batch: torch.Tensor, step: int) -> dict[str, float]:
        """One Adam step of E and D on L_auto, the learning rate decaying linearly over the phase."""
        lr = linear_decay(step, self.pretrain_steps, self.lr, self.final_lr)
        for group in self.autoencoder_optimizer.param_groups:
            group["lr"] = lr
        loss = self.autoencoder_loss(real_batch)
        self.autoencoder_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(self._autoencoder_parameters)
        self.autoencoder_optimizer.step()
        self.pretrain_losses.append(float(loss.detach()))
        return {"loss/autoencoder": self.pretrain_losses[-1], "lr": lr}

    def leave_pretraining(self, finished: bool) -> None:
        """E and D are frozen again (and run in eval mode) whether the phase finished or paused."""
        self._pretraining = False
        for parameter in self._autoencoder_parameters:
            parameter.requires_grad_(False)
            parameter.grad = None
        self.train(self.training)

    def save_autoencoder(self, path: str | Path) -> Path:
        """Write E and D (weights and BN statistics) for the ``autoencoder`` argument of other runs."""
        state = {
            "encoder_kernel": self.encoder_kernel,
            "width": self.width,
            "encoder": self.encoder.state_dict(),
            "decoder": self.decoder.state_dict(),
        }
        return save_atomic(state, path)  # other runs load it: never a truncated file behind its name

    def load_autoencoder(self, path: str | Path) -> None:
        """Load E and D written by :meth:`save_autoencoder` (architectures must match)."""
        state = torch.load(path, map_location="cpu", weights_only=True)
        if (state["encoder_kernel"], state["width"]) != (self.encoder_kernel, self.width):
            raise ValueError(
                f"autoencoder {path} has encoder_kernel={state['encoder_kernel']}, width={state['width']}; "
                f"this transform has encoder_kernel={self.encoder_kernel}, width={self.width}"
            )
        self.encoder.load_state_dict(state["encoder"])
        self.decoder.load_state_dict(state["decoder"])

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"repair": self.repair_optimizer}

    def checkpoint_state(self) -> dict[str, Any]:
        state = super().checkpoint_state()
        state["generator"] = self.generator.get_state()
        state["repair_steps"] = self.repair_steps
        if self.pretraining_remaining():  # Adam's moments of L_auto matter only to a resumed phase
            state["autoencoder_optimizer"] = self.autoencoder_optimizer.state_dict()
        state["history"] = self.history.state_dict() if self.history is not None else None
        return state

    def load_checkpoint_state(self, state: dict[str, Any]) -> None:
        super().load_checkpoint_state(state)
        self.generator.set_state(state["generator"])
        self.repair_steps = state["repair_steps"]
        if "autoencoder_optimizer" in state:
            self.autoencoder_optimizer.load_state_dict(state["autoencoder_optimizer"])
        if self.history is not None and state["history"] is not None:
            self.history.load_state_dict(state["history"])

    def __repr__(self) -> str:
        defaults = dict(
            fill="average",
            encoder_kernel=2,
            gating=True,
            autoencoded_real=True,
            mask_head=True,
            use_history=True,
        )
        flags = "".join(f", {k}={getattr(self, k)!r}" for k, v in defaults.items() if getattr(self, k) != v)
        return f"DamageRepair(drop_rate={self.drop_rate}, repair={self.repair.layout!r}{flags})"
