"""T₅: Limited Context Inpainting (LCI), the learned, adversarially trained transform of sec. 4.2.1.

A random patch W_Δ of each image keeps only a thin border; its centre becomes noise (eq. 4.3),
an inpainter F fills it in, and the patch is pasted back (eq. 4.4). F is trained against a
patch discriminator D (local realism, hinge loss by default), to reproduce the border (λ_border = 50), to
fool the transformation classifier C (−L_SSL) and to autoencode whole patches (λ_AE = 50,
sec. 4.2.4). The autoencoded patches also become *decoys*: half of the untransformed images,
and half of the images about to be rotated, get a patch replaced by F(e), so that C cannot
recognise LCI from F's processing artefacts alone (sec. 4.2.4).

D's game can use any GAN objective of table 7.3 and distribution filtering (ch. 7): with
``distribution_filter`` set, D sees clean and noise-filtered real and inpainted patches (eq. 7.8),
and a learned noise model is trained against D like in Algorithm 1.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from transformrec.adversarial.dcgan import noise_generator
from transformrec.adversarial.filter_config import build_distribution_filter, parse_noise_config
from transformrec.adversarial.objectives import gan_objective
from transformrec.functional.inpainting_quality import inpainting_quality
from transformrec.functional.patches import (
    centre_mask,
    extract_patches,
    hide_centre,
    paste_patches,
    patch_side,
    sample_patch_corners,
)
from transformrec.runtime.distributed import average_gradients
from transformrec.runtime.own_step import step_own_parameters
from transformrec.transforms.base import LearnedTransform
from transformrec.transforms.classifier_feedback import MixedBatchFeedback, classifier_loss
from transformrec.transforms.lci_networks import STAGES, Inpainter, PatchDiscriminator
from transformrec.transforms.registry import register_transform


def limited_context_inpaint(
    images: torch.Tensor,
    inpainter: nn.Module,
    corners: torch.Tensor,
    side: int,
    border: int,
    noise: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eqs. 4.2–4.4 for a batch: returns (T₅ ∘ x, inpainted patches r, original patches e).

    Differentiable w.r.t. the inpainter's parameters, which is how −L_SSL reaches F.
    """
    original = extract_patches(images, corners, side)
    mask = centre_mask(side, border, images.device)
    inpainted = inpainter(hide_centre(original, mask, noise.to(images.device, images.dtype)))
    return paste_patches(images, inpainted, corners), inpainted, original


@register_transform("lci", run_inputs=("channels", "seed"))
class LimitedContextInpainting(LearnedTransform):
    """The LCI transform with its inpainter F, patch discriminator D and their Adam optimisers.

    Args:
        channels: image channels (filled from the dataset by config builds).
        patch_size: side of W_Δ, as a fraction of the image side (≤ 1) or in pixels (> 1);
            0.75 is the thesis's 48×48 on 64×64 (table 4.1 a–c vary it).
        border: pixels of the patch border kept for F (2 on STL-10/CelebA, 4 on ImageNet).
        width: channel width of F and D.
        inpainter_stages: stride-2 stages of F's encoder (and decoder). The default 3 is the
            authors' on 48 px patches, a 6×6 bottleneck; smaller patches want fewer (2 for the 24 px
            patches of 32 px images) so they are not squeezed through fewer positions than theirs.
            Measured on 24 px patches (seed 0, F and D alone, width 16): with 3 stages (3×3) F's
            decoys cost a decoy-free rotation CNN 17.0 / 12.3 points after 500 / 1000 steps, with 2
            stages (6×6) 8.8 / 6.6.
        lambda_border: weight of the border reconstruction (50).
        lambda_ae: weight of the patch autoencoding (50).
        lr: Adam's learning rate for F and D (2e-4).
        betas: Adam's betas for F and D (β₁ = 0.5; β₂ is not given in the thesis, Adam's 0.999).
        discriminator_lr_factor: D's learning rate is ``lr`` times this. The thesis is silent; the
            default 4 is the authors' code's.
        discriminator_pack: patches D judges together, stacked on channels (see
            :class:`PatchDiscriminator`). The thesis is silent; the default 2 is the authors' code's,
            and measured (upright_objects, seed 0, 1000 steps) against 1 it cut the share of the
            centres' energy common to all patches from 0.15 to 0.11 and raised the LCI row's conv5
            probe from 35.0 to 41.7 %.
        noise_scale: standard deviation of the noise z that replaces the patch centre, in the
            image's units ([0, 1]). Eq. 4.3 writes N(0, 1) without saying on what scale; the authors'
            code draws 0.1·N(0, 1) on images in [−1, 1], which is the default 0.05 here. At N(0, 1) on
            [0, 1] images the noise swamps the border and F learned to pass it through.
        fool_classifier: keep the −L_SSL term (table 4.1 e switches it off).
        patch_autoencoding: keep the λ_AE term and the decoys (table 4.1 f switches both off).
        frozen: train F (and D) only in a pre-training phase of ``pretrain_steps`` steps
            without C, then freeze it (table 4.1 d: "pre-trained and frozen F").
        pretrain_steps: steps of that phase (only used when ``frozen``).
        warmup_steps: steps F and D train alone (autoencoding, border, D) before C joins, after
            which F keeps training with −L_SSL (not frozen). Why: F's decoys are only harmless once
            its autoencoding is faithful; a warm-up gives it that before C learns from them.
        decoy_for: names of the transforms whose inputs get half-decoyed (sec. 4.2.4).
        decoy_feedback: −L_SSL also reaches F through its decoys (the authors' code: the classifier's
            −CE over the whole batch, including the autoencoded patches in the untransformed and
            rotated images). The thesis's eq. 4.1 names only the LCI class, the default here; with
            it, F is also pushed to make its decoys as hard to tell from its inpaintings as the
            inpaintings are from real images. Measured (upright_objects, Rot + Warp + LCI, seed 0,
            1000 steps): F then paints decoys that fool C rather than keep the object — they cost a
            decoy-free rotation CNN 39 points (against 15–18 without) and the conv5 probe fell from
            60.6 to 57.0 % — so it stays off.
        joint_batch: F's training step runs F once on the noisy patches and the real patches
            together (the authors' code: one F batch, so F's batch normalisation sees both), instead
            of once on each (the default: each gets its own batch statistics). Only F's step
            changes; T₅ ∘ x for C and the decoys are made as before. Measured (upright_objects,
            identity vs LCI, seed 0, 1000 steps): the joint batch made F paint one pattern in
            every patch (fixed-pattern share 0.19 against 0.07, real patches 0.025), C told LCI
            apart more easily (pretext accuracy 0.88 against 0.70) and the conv5 probe fell from
            39.8 to 36.9 %, so it stays off.
        seed: seeds the generator used by :meth:`update` (patch locations and noise).
        objective: D's GAN objective (``hinge`` as in sec. 4.2.1, or any of table 7.3).
        distribution_filter: a ch. 7 noise block (``kind``, ``mode``, ``sigma``, ``penalty``,
            ``lr``, ``anneal_steps``, ``separate_normalization``; see ``NoiseConfig``), or None
            for plain GAN training. ``kind: network`` uses table 7.2's 32 px generator at
            ×1/8 channels (scaled by ``width``/64), resized to the patch side.
    """

    def __init__(
        self,
        channels: int = 3,
        patch_size: float = 0.75,
        border: int = 2,
        width: int = 64,
        inpainter_stages: int = STAGES,
        lambda_border: float = 50.0,
        lambda_ae: float = 50.0,
        lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        discriminator_lr_factor: float = 4.0,
        discriminator_pack: int = 2,
        noise_scale: float = 0.05,
        fool_classifier: bool = True,
        patch_autoencoding: bool = True,
        frozen: bool = False,
        pretrain_steps: int = 2000,
        warmup_steps: int = 0,
        decoy_for: tuple[str, ...] | list[str] = ("identity", "rotation"),
        decoy_feedback: bool = False,
        joint_batch: bool = False,
        seed: int = 0,
        objective: str = "hinge",
        distribution_filter: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if border < 0:
            raise ValueError(f"lci border must be >= 0 pixels, got {border}")
        if patch_size <= 0:
            raise ValueError(f"lci patch_size must be > 0 (a fraction <= 1 or pixels > 1), got {patch_size}")
        if discriminator_lr_factor <= 0 or noise_scale < 0:
            raise ValueError(
                f"lci discriminator_lr_factor must be > 0 and noise_scale >= 0, got {discriminator_lr_factor}, "
                f"{noise_scale}"
            )
        if frozen and pretrain_steps < 1:
            raise ValueError("a frozen lci inpainter needs pretrain_steps >= 1 to be trained before freezing")
        if warmup_steps < 0 or (frozen and warmup_steps):
            raise ValueError(
                f"lci warmup_steps must be >= 0 and is for an inpainter that keeps training (frozen: false), "
                f"got {warmup_steps} with frozen={frozen}"
            )
        self.channels, self.patch_size, self.border, self.width = channels, patch_size, border, width
        self.lambda_border, self.lambda_ae = lambda_border, lambda_ae
        self.noise_scale = noise_scale
        self.fool_classifier, self.patch_autoencoding = fool_classifier, patch_autoencoding
        self.frozen, self.pretrain_steps, self.warmup_steps = frozen, pretrain_steps, warmup_steps
        self.decoy_for = tuple(decoy_for) if patch_autoencoding else ()
        self.decoy_share = 0.5
        self.decoy_feedback = decoy_feedback and bool(self.decoy_for)
        self.joint_batch = joint_batch and patch_autoencoding
        self.inpainter = Inpainter(channels, width, inpainter_stages)
        self.discriminator = PatchDiscriminator(channels, width, discriminator_pack)
        self.inpainter_optimizer = torch.optim.Adam(self.inpainter.parameters(), lr=lr, betas=tuple(betas))
        self.discriminator_optimizer = torch.optim.Adam(
            self.discriminator.parameters(), lr=lr * discriminator_lr_factor, betas=tuple(betas)
        )
        self.generator = torch.Generator().manual_seed(seed)
        self.class_label: dict[str, int] = {"lci": 0}
        self.objective = gan_objective(objective)
        noise = parse_noise_config(distribution_filter, "lci.distribution_filter")
        latent_dim = 128

        def noise_network() -> tuple[nn.Module, int]:
            return noise_generator(32, channels, latent_dim, width / 64), latent_dim

        # D is spectral-normalised without BN, so noisy groups are standardised separately (sec. 7.2.3).
        self.filter = build_distribution_filter(
            noise, noise_network, discriminator_has_batch_norm=False, resize_noise_to_input=True
        )
        self.filter.generator = self.generator
        noise_parameters = [p for p in self.filter.parameters() if p.requires_grad]
        self.noise_optimizer = (
            torch.optim.Adam(noise_parameters, lr=noise.lr or lr, betas=tuple(betas)) if noise_parameters else None
        )

    # ------------------------------------------------------------------ Transform contract
    def variant_names(self) -> tuple[str, ...]:
        return ("lci",)

    def check_image_size(self, height: int, width: int) -> None:
        """The patch must fit the image and leave a centre inside its border (eq. 4.3)."""
        side = patch_side(min(height, width), self.patch_size)
        if 2 * self.border >= side:
            raise ValueError(f"a {self.border}px border leaves no centre in the {side}px patch")

    def bind_labels(self, head: str, labels: dict[str, int]) -> None:
        """Told by the TransformSet which label index "lci" has on its head (for −L_SSL)."""
        self.head, self.class_label = head, dict(labels)

    def _random_inputs(self, images: torch.Tensor, generator: torch.Generator | None):
        batch, _, height, width = images.shape
        side = patch_side(min(height, width), self.patch_size)
        corners = sample_patch_corners(batch, height, width, side, generator)
        noise = self.noise_scale * torch.randn((batch, images.shape[1], side, side), generator=generator)
        return side, corners, noise

    def apply(self, batch, variant, generator=None):
        """T₅ ∘ x for the classifier's batch; F runs without gradients (C's step does not train F)."""
        side, corners, noise = self._random_inputs(batch, generator)
        with torch.no_grad():
            transformed, _, _ = limited_context_inpaint(batch, self.inpainter, corners, side, self.border, noise)
        return transformed, {}

    def make_decoys(
        self, batch: torch.Tensor, generator: torch.Generator | None = None, differentiable: bool = False
    ) -> torch.Tensor:
        """``decoy_share`` of ``batch`` (half, sec. 4.2.4) with one random patch replaced by F(e), its autoencoded self.

        :func:`transformrec.eval.decoy_cost.decoy_cost` sets the share to 0 and 1 to measure what a
        decoy costs a trained classifier. ``differentiable``: F's gradient is kept (``decoy_feedback``).
        """
        count = round(batch.shape[0] * self.decoy_share)
        if count == 0:
            return batch
        chosen = torch.randperm(batch.shape[0], generator=generator)[:count].to(batch.device)
        picked = batch[chosen]
        _, height, width = picked.shape[1:]
        side = patch_side(min(height, width), self.patch_size)
        corners = sample_patch_corners(count, height, width, side, generator)
        with torch.set_grad_enabled(differentiable and torch.is_grad_enabled()):
            autoencoded = self.inpainter(extract_patches(picked, corners, side))
            decoys = paste_patches(picked, autoencoded, corners)
            out = batch.clone()
            out[chosen] = decoys.to(out.dtype)
        return out

    # ------------------------------------------------------------------ learning
    def _inpaint_for_training(self, real_batch: torch.Tensor):
        """(side, T₅ ∘ x, r, e, noise, F(e) or None) of one training step; with ``joint_batch`` F
        runs once on the noisy and the real patches together and F(e) (the autoencoding) comes
        from that same forward."""
        side, corners, noise = self._random_inputs(real_batch, self.generator)
        if not self.joint_batch:
            transformed, inpainted, original = limited_context_inpaint(
                real_batch, self.inpainter, corners, side, self.border, noise
            )
            return side, transformed, inpainted, original, noise, None
        original = extract_patches(real_batch, corners, side)
        hidden = hide_centre(original, centre_mask(side, self.border, real_batch.device), noise.to(original))
        inpainted, autoencoded = self.inpainter(torch.cat([hidden, original])).split(original.shape[0])
        return side, paste_patches(real_batch, inpainted, corners), inpainted, original, noise, autoencoded

    def _quality(self, inpainted: torch.Tensor, original: torch.Tensor, noise: torch.Tensor) -> dict[str, float]:
        """:func:`inpainting_quality` of one batch plus D's accuracy (real patches > 0, inpainted < 0)."""
        quality = inpainting_quality(inpainted, original, noise, self.border)
        with torch.no_grad():
            real, fake = self.discriminator(original), self.discriminator(inpainted.detach())
        quality["discriminator_accuracy"] = float(((real > 0).float().mean() + (fake < 0).float().mean()) / 2)
        return quality

    def measure_quality(self, images: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, float]:
        """Inpainting quality on ``images`` (held out from training): what the gates of
        :mod:`transformrec.functional.inpainting_quality` read, and D's accuracy.

        F and D run in the mode they are in (F in train mode normalises with the batch, as during
        training); nothing is updated.
        """
        side, corners, noise = self._random_inputs(images, generator)
        with torch.no_grad():
            _, inpainted, original = limited_context_inpaint(images, self.inpainter, corners, side, self.border, noise)
        return self._quality(inpainted, original, noise)

    def discriminator_losses(
        self, inpainted: torch.Tensor, original: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's loss (real patches e against inpainted r, detached: D's step only) and the noise penalty λΓ.

        Without distribution filtering this is the plain objective (hinge by default) and no penalty.
        A packed D (``discriminator_pack``) sees the largest multiple of its pack, so no group mixes
        the clean and the noisy half of a filtered batch.
        """
        usable = original.shape[0] - original.shape[0] % self.discriminator.pack
        return self.filter.discriminator_losses(
            self.discriminator, self.objective, original[:usable], inpainted[:usable]
        )

    def inpainter_losses(
        self,
        side: int,
        transformed: torch.Tensor,
        inpainted: torch.Tensor,
        original: torch.Tensor,
        classifier: nn.Module | None,
        real_batch: torch.Tensor | None = None,
        autoencoded: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """L_inp,AE (sec. 4.2.1, 4.2.4): ``inpainter`` (the total) and its parts.

        ``real_batch``: the images T₅ ∘ x was made from, from which ``decoy_feedback`` rebuilds the
        decoyed classes. ``autoencoded``: F(e) when the step already computed it (``joint_batch``).

        Parts: ``adversarial`` (hinge ℓ_GAN), ``border`` (mean squared border error, weighted by
        λ_border), ``ssl`` (C's cross-entropy on T₅ ∘ x, *subtracted*) and ``autoencoding``
        (|F(e) − e|², weighted by λ_AE). Parts switched off by the ablation flags are absent.

        ``ssl`` is eq. 4.1's term for the LCI class as the formula reads it: given the Trainer's
        ``MixedBatchFeedback``, C sees T₅ ∘ x inside the step's mixed batch (its BatchNorm statistics
        are the batch's), and the summed cross-entropy is divided by the size of the whole batch
        (6N in the 6-way task), not by the N LCI images (which would weigh it (K+1)× the formula).
        """
        terms = {"adversarial": self.filter.generator_loss(self.discriminator, self.objective, inpainted)}
        frame = 1 - centre_mask(side, self.border, inpainted.device)
        squared = ((inpainted - original) * frame).pow(2)
        terms["border"] = squared.sum() / (frame.sum() * inpainted.shape[0] * inpainted.shape[1])
        total = terms["adversarial"] + self.lambda_border * terms["border"]
        if self.fool_classifier and classifier is not None:
            terms["ssl"] = self._classifier_term(classifier, transformed, real_batch)
            total = total - terms["ssl"]
        if self.patch_autoencoding:
            reconstruction = self.inpainter(original) if autoencoded is None else autoencoded
            terms["autoencoding"] = F.mse_loss(reconstruction, original)
            total = total + self.lambda_ae * terms["autoencoding"]
        terms["inpainter"] = total
        return terms

    def _classifier_term(
        self, classifier: Any, transformed: torch.Tensor, real_batch: torch.Tensor | None
    ) -> torch.Tensor:
        """L_SSL as F sees it: C's cross-entropy on T₅ ∘ x, and with ``decoy_feedback`` also on the
        decoyed classes rebuilt with F's gradient (one forward of C; needs the Trainer's feedback)."""
        label = self.class_label["lci"]
        if not (
            self.decoy_feedback
            and isinstance(classifier, MixedBatchFeedback)
            and classifier.transform_set is not None
            and real_batch is not None
        ):
            return classifier_loss(classifier, transformed, self.head, label)
        rows = classifier.transform_set.decoyed_rows(self, real_batch, self.generator)
        rows[label] = transformed
        return classifier.rows_loss(self.head, rows)

    def losses(self, real_batch: torch.Tensor, classifier: nn.Module | None) -> dict[str, torch.Tensor]:
        """Every loss of one LCI step on ``real_batch``: ``discriminator`` plus :meth:`inpainter_losses`."""
        side, transformed, inpainted, original, _, autoencoded = self._inpaint_for_training(real_batch)
        terms = self.inpainter_losses(side, transformed, inpainted, original, classifier, real_batch, autoencoded)
        terms["discriminator"], penalty = self.discriminator_losses(inpainted, original)
        if penalty is not None:
            terms["noise_penalty"] = penalty
        return terms

    def _step(self, real_batch: torch.Tensor, classifier: nn.Module | None) -> dict[str, float]:
        """Alternating GAN training: D steps on this batch's r, then F steps against the updated D.

        Besides the losses, the step reports the inpainting quality of this batch's r (as ``lci/…``:
        the statistics of :func:`inpainting_quality` and D's accuracy), so the metrics log shows
        during training whether F inpaints or copies its noise.
        """
        side, transformed, inpainted, original, noise, autoencoded = self._inpaint_for_training(real_batch)
        discriminator_loss, penalty = self.discriminator_losses(inpainted, original)
        self._discriminator_step(discriminator_loss, penalty)
        terms = self.inpainter_losses(side, transformed, inpainted, original, classifier, real_batch, autoencoded)
        step_own_parameters(terms["inpainter"], self.inpainter.parameters(), self.inpainter_optimizer)
        self.filter.step()
        terms["discriminator"] = discriminator_loss
        if penalty is not None:
            terms["noise_penalty"] = penalty
        scalars = {name: float(value.detach()) for name, value in terms.items()}
        scalars.update(self._quality(inpainted, original, noise))
        return {f"lci/{name}": value for name, value in scalars.items()}

    def _discriminator_step(self, loss: torch.Tensor, penalty: torch.Tensor | None) -> None:
        """D descends its loss; a learned noise model ascends it (minus λΓ) from the same backward pass."""
        self.filter.update_discriminator(
            loss,
            penalty,
            self.discriminator,
            self.discriminator_optimizer,
            self.noise_optimizer,
            reduce_gradients=average_gradients,
        )

    def update(self, real_batch: torch.Tensor, classifier: nn.Module) -> dict[str, float]:
        """One Adam step of D, then of F (alternating GAN training); nothing when F is frozen."""
        if self.frozen:
            return {}
        return self._step(real_batch, classifier)

    def pretraining_length(self) -> int:
        """Table 4.1 (d): ``pretrain_steps`` steps of F and D without C, then F is kept fixed; or
        ``warmup_steps`` of them, after which F trains on with C."""
        return self.pretrain_steps if self.frozen else self.warmup_steps

    def pretrain_step(self, real_batch: torch.Tensor, step: int) -> dict[str, float]:
        return self._step(real_batch, classifier=None)

    def leave_pretraining(self, finished: bool) -> None:
        if finished and self.frozen:
            self.inpainter.requires_grad_(False)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        optimizers = {"inpainter": self.inpainter_optimizer, "discriminator": self.discriminator_optimizer}
        if self.noise_optimizer is not None:
            optimizers["noise"] = self.noise_optimizer
        return optimizers

    def checkpoint_state(self) -> dict[str, Any]:
        state = super().checkpoint_state()
        state["generator"] = self.generator.get_state()
        return state

    def load_checkpoint_state(self, state: dict[str, Any]) -> None:
        super().load_checkpoint_state(state)
        self.generator.set_state(state["generator"])

    def __repr__(self) -> str:
        defaults = {
            "fool_classifier": True,
            "patch_autoencoding": True,
            "frozen": False,
            "decoy_feedback": False,
            "joint_batch": False,
        }
        flags = "".join(
            f", {name}={getattr(self, name)}" for name, default in defaults.items() if getattr(self, name) != default
        )
        return f"LimitedContextInpainting(patch_size={self.patch_size}, border={self.border}{flags})"
