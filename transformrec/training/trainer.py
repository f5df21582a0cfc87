"""The generic N-way, multi-head transformation-classifier trainer.

Every pretext task is a TransformSet plus a backbone: the trainer never knows which chapter it
runs. Each step it augments the real batch, lets learned transforms take their own step
(their loss includes fooling the classifier), builds the transformed batch with per-head
targets, and minimises the summed cross-entropy (eq. 4.1) with AdamW and cosine decay (sec. 4.4).
"""

from __future__ import annotations

import json
import logging
import math
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from transformrec.backbones.base import TappedBackbone
from transformrec.backbones.registry import build_backbone
from transformrec.bilevel.balanced_sampler import balanced_partition
from transformrec.bilevel.optimizer import BilevelOptimizer, split_bilevel_options
from transformrec.training.checkpoint import load_checkpoint, save_atomic
from transformrec.training.distributed import init_distributed
from transformrec.training.global_batch import gather_global_batch, own_slice, take_own_samples
from transformrec.training.loss import global_multi_head_loss, multi_head_loss, multi_head_loss_value
from transformrec.training.model import PretextModel
from transformrec.training.run_logger import RunLogger
from transformrec.training.sampler import EpochBatchSampler
from transformrec.training.schedule import build_cosine_schedule, build_optimizer
from transformrec.transforms.augment import RandomCropFlip
from transformrec.transforms.base import Transform
from transformrec.transforms.registry import build_transform
from transformrec.transforms.transform_set import TransformSet

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
BACKBONE_NAME = "backbone.pt"
MAX_CONSECUTIVE_BAD_STEPS = 10


class NonFiniteLossError(FloatingPointError):
    """Raised when the loss stays NaN/inf for many consecutive steps (training has diverged)."""


class Trainer:
    """Train a transformation classifier: ``Trainer(transforms=[...], backbone=..., data=...).fit()``.

    Args:
        transforms: a TransformSet, or transforms / registered names to build one with ``mode``.
        backbone: a TappedBackbone, or a registered backbone name.
        data: a dataset yielding ``(image, label)``; labels are ignored (self-supervision). With
            temporal transforms (ch. 5) a VideoFolder, wrapped in TemporalClips so that frames
            are chosen before decoding; ``augment`` then crops and flips whole clips. With the
            pair transforms of ch. 6 (``sync``, ``flip``) a MultiViewFolder, wrapped in
            MultiViewPairs; ``augment.hflip`` then mirrors both frames of a pair together.
        mode: ``"all"`` (each image under every transform, eq. 4.1) or ``"sample"``.
        epochs, batch_size: length of training and global batch size (real images per step).
        lr, final_lr, betas, weight_decay: AdamW + cosine decay, defaults from sec. 4.4.
        augment: random crop + flip before transforming (sec. 4.4); ``None`` disables it.
        output_dir: where checkpoints, logs, the summary and exported weights go (None: nowhere).
        checkpoint_every: steps between checkpoints (a checkpoint also ends every epoch).
        resume: continue from ``output_dir/checkpoint.pt`` if it exists, bit-for-bit on CPU.
        max_steps: stop early after this many steps (the schedule still spans ``epochs``).
        amp: bfloat16/float16 autocast on CUDA; ignored on CPU (and with ``bilevel``).
        channels_last: keep the model and image batches in NHWC memory layout (faster convolutions
            on CUDA with AMP; the same function of the inputs).
        sync_batchnorm: under ``torchrun``, convert BatchNorm to SyncBatchNorm (CUDA only) so that
            batch statistics span the global batch as in one process.
        bilevel: options of :class:`~transformrec.bilevel.BilevelOptimizer` (``k``, ``mu``,
            ``lambda_``, ...; ``balanced`` for the label-balanced split) to train with the bilevel
            re-weighting of chapter 8 around the AdamW above. Each step then draws ``k × batch_size``
            images, transforms them, and splits the transformed batch into k mini-batches with
            identical transformation-label counts (Remark 1). Single process only.

    Under ``torchrun --nproc_per_node N`` the run is equivalent to one process with the same
    global ``batch_size``: every rank draws the randomness of the whole global batch (see
    :mod:`transformrec.training.global_batch`) and the loss is normalised over the global batch.
    The exception is BatchNorm, which normalises each rank's shard unless ``sync_batchnorm``.
    """

    def __init__(
        self,
        transforms: TransformSet | Sequence[Transform | str],
        backbone: TappedBackbone | str,
        data: Dataset,
        *,
        mode: str = "all",
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 3e-4,
        final_lr: float = 3e-7,
        betas: tuple[float, float] = (0.5, 0.99),
        weight_decay: float = 1e-4,
        augment: RandomCropFlip | None = None,
        output_dir: str | Path | None = None,
        seed: int = 0,
        device: str = "auto",
        num_workers: int = 0,
        checkpoint_every: int | None = None,
        resume: bool = False,
        max_steps: int | None = None,
        log_every: int = 10,
        progress: bool = True,
        amp: bool = False,
        tensorboard: bool = True,
        sync_batchnorm: bool = False,
        bilevel: dict[str, Any] | None = None,
        channels_last: bool = False,
    ) -> None:
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        self.context = init_distributed(device)
        if bilevel is not None and self.context.world_size > 1:
            raise ValueError("bilevel training runs in a single process; launch without torchrun")
        self.device = self.context.device
        torch.manual_seed(seed)
        if not isinstance(transforms, TransformSet):
            transforms = TransformSet([build_transform(t) if isinstance(t, str) else t for t in transforms], mode=mode)
        self.transform_set = transforms
        self.backbone = build_backbone(backbone) if isinstance(backbone, str) else backbone
        example = data[0][0].unsqueeze(0) if transforms.dense_heads else None  # sizes dense heads (ch. 3 mask)
        self.model = PretextModel(self.backbone, transforms.num_classes, transforms.dense_heads, example)
        self.model.to(self.device)
        if sync_batchnorm and self.context.enabled:  # same parameters, statistics over the global batch
            self.model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
            self.backbone = self.model.backbone
        for learned in transforms.learned_transforms:
            learned.to(self.device)
        if any(t.modality == "video-indices" for t in transforms.transforms):
            from transformrec.data.temporal_clips import TemporalClips  # late: data imports transforms

            if not isinstance(data, TemporalClips):
                # Temporal transforms pick frames before decoding (sec. 5.2.1): the data set does the work.
                data = TemporalClips(
                    data,
                    transforms,
                    seed=seed,
                    crop_padding=augment.padding if augment is not None else 0,
                    hflip=augment.hflip if augment is not None else False,
                )
            augment = None
        elif any(t.modality == "pair" for t in transforms.transforms):
            from transformrec.data.multiview_pairs import MultiViewPairs  # late: data imports transforms

            if not isinstance(data, MultiViewPairs):
                # Pairs of views are chosen before decoding (sec. 6.2.1): the data set does the work.
                data = MultiViewPairs(
                    data, transforms, seed=seed, hflip=augment.hflip if augment is not None else False
                )
            augment = None
        self.data = data
        self.epochs, self.batch_size, self.seed = epochs, batch_size, seed
        self.lr, self.final_lr = lr, final_lr
        self.augment = augment
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.checkpoint_every, self.resume, self.max_steps = checkpoint_every, resume, max_steps
        self.log_every, self.progress, self.tensorboard = log_every, progress, tensorboard
        self.amp = amp and self.device.type == "cuda" and bilevel is None
        # NHWC lets cuDNN (and oneDNN on CPU) pick faster conv kernels; image batches only, same numbers.
        self.channels_last = channels_last and all(t.modality == "image" for t in transforms.transforms)
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.bilevel_options, self.bilevel_balanced = split_bilevel_options(bilevel)
        self.bilevel_k = self.bilevel_options.get("k", 8) if bilevel is not None else 1
        self.sampler = EpochBatchSampler(
            len(data),
            batch_size * self.bilevel_k,
            seed=seed,
            rank=self.context.rank,
            world_size=self.context.world_size,
        )
        self.loader = DataLoader(
            data,
            batch_sampler=self.sampler,
            num_workers=num_workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
        )
        self.total_steps = epochs * len(self.sampler)
        self.optimizer = build_optimizer(self.model.parameters(), lr=lr, betas=betas, weight_decay=weight_decay)
        self.scheduler = build_cosine_schedule(self.optimizer, self.total_steps, lr, final_lr)
        self.bilevel = BilevelOptimizer(self.model, self.optimizer, **self.bilevel_options) if bilevel else None
        # Transform and augmentation randomness: the same generator on every rank, drawn for the
        # whole global batch (global-batch replay), saved in checkpoints.
        self.generator = torch.Generator().manual_seed(seed)
        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0
        self.skipped_steps, self._consecutive_bad = 0, 0
        self._epoch_sums: dict[str, float] = {}
        self._epoch_count = 0

    # ------------------------------------------------------------------ state
    @property
    def checkpoint_path(self) -> Path | None:
        return self.output_dir / CHECKPOINT_NAME if self.output_dir is not None else None

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: weights, optimiser, schedule, RNGs, position."""
        state = {
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "skipped_steps": self.skipped_steps,
            "epoch_sums": dict(self._epoch_sums),
            "epoch_count": self._epoch_count,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "learned": [t.checkpoint_state() for t in self.transform_set.learned_transforms],
            "heads": {h: list(c) for h, c in self.transform_set.heads.items()},
        }
        if torch.cuda.is_available():
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the label spaces must match this trainer's."""
        heads = {h: list(c) for h, c in self.transform_set.heads.items()}
        if state["heads"] != heads:
            raise ValueError(f"checkpoint was trained with heads {state['heads']}, this run declares {heads}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        for learned, learned_state in zip(self.transform_set.learned_transforms, state["learned"], strict=True):
            learned.load_checkpoint_state(learned_state)
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self.skipped_steps = state["skipped_steps"]
        self._epoch_sums, self._epoch_count = dict(state["epoch_sums"]), state["epoch_count"]

    def save_checkpoint(self) -> None:
        if self.checkpoint_path is not None and self.context.is_main:
            save_atomic(self.state_dict(), self.checkpoint_path)

    # ------------------------------------------------------------------ training
    def fit(self) -> dict[str, Any]:
        """Run training to the end (or ``max_steps``); returns the JSON summary."""
        resumed_from = None
        if self.resume and self.checkpoint_path is not None and self.checkpoint_path.exists():
            self.load_state_dict(load_checkpoint(self.checkpoint_path, map_location=self.device))
            resumed_from = self.step
            log.info("resumed from %s at step %d", self.checkpoint_path, self.step)
        elif self.step == 0:
            for learned in self.transform_set.learned_transforms:
                learned.pretrain(self._real_batches())
        logger = None
        if self.output_dir is not None and self.context.is_main:
            logger = RunLogger(self.output_dir, resume_step=resumed_from, tensorboard=self.tensorboard)
        network = self.model
        if self.context.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            network = DistributedDataParallel(self.model, device_ids=ids)
        self.model.train()
        last_step = min(self.total_steps, self.max_steps or self.total_steps)
        bar = tqdm(
            total=last_step, initial=self.step, disable=not (self.progress and self.context.is_main), desc="pretrain"
        )
        started, samples = time.perf_counter(), 0
        try:
            while self.epoch < self.epochs and self.step < last_step:
                self.sampler.set_position(self.epoch, self.batch_in_epoch)
                if hasattr(self.data, "set_epoch"):
                    self.data.set_epoch(self.epoch)
                for images, labels in self.loader:
                    prepared = labels if isinstance(labels, dict) else None  # targets made by the data set
                    metrics = self._train_step(network, images.to(self.device, non_blocking=True), prepared)
                    samples += images.shape[0] * self.context.world_size
                    self.batch_in_epoch += 1
                    bar.update(1)
                    if metrics:
                        bar.set_postfix(loss=f"{metrics['loss']:.3f}")
                    if logger is not None and metrics and self.step % self.log_every == 0:
                        elapsed = max(time.perf_counter() - started, 1e-9)
                        logger.log(
                            self.step,
                            {
                                **metrics,
                                "lr": self.scheduler.get_last_lr()[0],
                                "images_per_second": samples / elapsed,
                                "epoch": self.epoch,
                            },
                        )
                    if self.checkpoint_every and self.step % self.checkpoint_every == 0:
                        self.save_checkpoint()
                    if self.step >= last_step:
                        break
                if self.batch_in_epoch >= len(self.sampler):
                    self._finish_epoch(logger)
                self.save_checkpoint()
        finally:
            bar.close()
            if logger is not None:
                logger.close()
        wall = time.perf_counter() - started
        return self._write_outputs(wall, samples, resumed_from)

    def _real_batches(self) -> Iterator[torch.Tensor]:
        """Augmented real batches, epoch after epoch, for learned transforms' pre-training phases.

        Under ``torchrun`` each rank gets its own images of the global batch, augmented with the
        draws of the whole global batch (global-batch replay), as in :meth:`_train_step`.
        """
        epoch = 0
        while True:
            self.sampler.set_position(epoch, 0)
            for shard, _ in self.loader:
                images = gather_global_batch(shard.to(self.device, non_blocking=True), self.context)
                if self.augment is not None:
                    images = self.augment(images, self.generator)
                yield images[own_slice(images.shape[0], self.context)]
            epoch += 1

    def _train_step(
        self, network: torch.nn.Module, shard: torch.Tensor, prepared: dict[str, torch.Tensor] | None = None
    ) -> dict[str, float]:
        """One optimisation step on a loaded batch.

        ``prepared``: per-head targets already made by the data set (temporal transforms pick
        frames, pair transforms frames and views, before decoding), with ``shard`` holding
        ``B×K`` transformed samples; the TransformSet is then not applied again.
        """
        metrics: dict[str, float] = {}
        if prepared is not None:
            inputs = shard.flatten(0, 1)
            targets = {head: t.flatten().to(self.device) for head, t in prepared.items()}
        else:
            images = gather_global_batch(shard, self.context)  # the global batch; ``shard`` in one process
            if self.augment is not None:
                images = self.augment(images, self.generator)
            for learned in self.transform_set.learned_transforms:
                metrics.update(learned.update(images[own_slice(images.shape[0], self.context)], self.model))
            inputs, targets = self.transform_set(images, self.generator)
            inputs = take_own_samples(inputs, images.shape[0], self.context)
            targets = {head: take_own_samples(t, images.shape[0], self.context) for head, t in targets.items()}
        if self.bilevel is not None:
            return self._bilevel_step(inputs, targets, metrics)
        if self.channels_last and inputs.dim() == 4:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, enabled=self.amp):
            logits = network(inputs)
        if self.context.enabled:
            loss, value, head_metrics = global_multi_head_loss(logits, targets, self.context.world_size)
        else:
            loss, head_metrics = multi_head_loss(logits, targets)
            value = float(loss.detach())
        self.optimizer.zero_grad(set_to_none=True)
        if not math.isfinite(value):
            return self._skip_step()
        loss.backward()
        self.optimizer.step()
        return self._finish_step(metrics, head_metrics, value)

    def _skip_step(self) -> dict[str, float]:
        # Skip and count: one bad batch should not poison the weights; many in a row mean divergence.
        self.skipped_steps += 1
        self._consecutive_bad += 1
        if self._consecutive_bad >= MAX_CONSECUTIVE_BAD_STEPS:
            raise NonFiniteLossError(
                f"loss was not finite for {self._consecutive_bad} consecutive steps "
                f"(step {self.step}); lower the learning rate or check the data"
            )
        self.step += 1
        with warnings.catch_warnings():  # the schedule advances with the step count, update or not
            warnings.simplefilter("ignore", UserWarning)
            self.scheduler.step()
        return {}

    def _finish_step(self, metrics: dict[str, float], head_metrics: dict[str, float], value: float) -> dict[str, float]:
        self._consecutive_bad = 0
        self.scheduler.step()
        self.step += 1
        metrics.update(head_metrics, loss=value)
        for key, number in metrics.items():
            self._epoch_sums[key] = self._epoch_sums.get(key, 0.0) + number
        self._epoch_count += 1
        return metrics

    def _bilevel_step(
        self, inputs: torch.Tensor, targets: dict[str, torch.Tensor], metrics: dict[str, float]
    ) -> dict[str, float]:
        """One step of chapter 8: k label-balanced mini-batches of the transformed batch, weighted by eq. 8.10."""
        assert self.bilevel is not None
        k = self.bilevel.k
        first_head = next(iter(targets))
        if self.bilevel_balanced:
            rows = balanced_partition(targets[first_head], k, self.generator).to(inputs.device)
        else:
            order = torch.randperm(inputs.shape[0], generator=self.generator)
            rows = order[: inputs.shape[0] // k * k].reshape(k, -1).to(inputs.device)
        stacked_inputs = inputs[rows]
        stacked_targets = {head: target[rows] for head, target in targets.items()}
        self.optimizer.zero_grad(set_to_none=True)
        result = self.bilevel.step(multi_head_loss_value, stacked_inputs, stacked_targets)
        if not result.applied:
            return self._skip_step()
        flat_logits = {head: logits.flatten(0, 1) for head, logits in result.outputs.items()}
        _, head_metrics = multi_head_loss(flat_logits, {h: t.flatten(0, 1) for h, t in stacked_targets.items()})
        weights = result.weights
        metrics.update(
            {
                "bilevel/validation_loss": result.validation_loss,
                "bilevel/negative_weights": float((weights < 0).float().mean()),
                "bilevel/weight_max": float(weights.max()),
            }
        )
        return self._finish_step(metrics, head_metrics, float(result.losses.mean()))

    def _finish_epoch(self, logger: RunLogger | None) -> None:
        self.last_epoch_means = {k: v / max(self._epoch_count, 1) for k, v in self._epoch_sums.items()}
        if logger is not None:
            logger.log(self.step, {f"epoch_mean/{k}": v for k, v in self.last_epoch_means.items()})
        self._epoch_sums, self._epoch_count = {}, 0
        self.epoch, self.batch_in_epoch = self.epoch + 1, 0

    def _write_outputs(self, wall: float, samples: int, resumed_from: int | None) -> dict[str, Any]:
        means = getattr(self, "last_epoch_means", None)
        if means is None and self._epoch_count:
            means = {k: v / self._epoch_count for k, v in self._epoch_sums.items()}
        summary: dict[str, Any] = {
            "steps": self.step,
            "total_steps": self.total_steps,
            "epochs_completed": self.epoch,
            "resumed_from_step": resumed_from,
            "skipped_nonfinite_steps": self.skipped_steps,
            "wall_seconds": wall,
            "images_per_second": samples / wall if wall > 0 else None,
            "heads": {h: list(c) for h, c in self.transform_set.heads.items()},
            "transforms": [repr(t) for t in self.transform_set.transforms],
            "mode": self.transform_set.mode,
            "backbone": type(self.backbone).__name__,
            "device": str(self.device),
            "world_size": self.context.world_size,
            "bilevel": {**self.bilevel_options, "balanced": self.bilevel_balanced} if self.bilevel else None,
            "final_metrics": means or {},
        }
        if self.output_dir is not None and self.context.is_main:
            save_atomic(self.backbone.state_dict(), self.output_dir / BACKBONE_NAME)
            summary["backbone_weights"] = str(self.output_dir / BACKBONE_NAME)
            (self.output_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        return summary
