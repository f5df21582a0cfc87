"""The generic N-way, multi-head transformation-classifier trainer.

Every pretext task is a TransformSet plus a backbone: the trainer never knows which chapter it
runs. Each step it augments the real batch, builds the transformed batch with per-head targets,
lets learned transforms take their own step against the classifier as it sees that very batch
(their loss includes fooling it), and minimises the summed cross-entropy (eq. 4.1) with AdamW and
cosine decay (sec. 4.4).
Where the samples come from is the TransformSet's business (:meth:`TransformSet.data_path`: a
modality that picks frames or views before decoding provides its own data set), how a batch
becomes an update is an update strategy's (``training/update.py``; the bilevel step of ch. 8),
and the loop around it — checkpoints, resume, logs, progress — is the shared
:class:`~transformrec.training.engine.TrainingEngine`.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset

from transformrec.atomic_save import save_atomic
from transformrec.backbones.base import TappedBackbone
from transformrec.backbones.export import CARD_NAME, backbone_card
from transformrec.backbones.registry import build_backbone
from transformrec.eval.online_monitor import OnlineMonitor
from transformrec.runtime.distributed import init_distributed
from transformrec.runtime.progress import progress
from transformrec.runtime.schedule import build_lr_schedule, build_optimizer
from transformrec.training.engine import CHECKPOINT_NAME, NonFiniteLossError, StepOutcome, TrainingEngine, TrainingTask
from transformrec.training.global_batch import gather_global_batch, own_slice, take_own_samples
from transformrec.training.model import PretextModel
from transformrec.training.options import TrainOptions, options_from
from transformrec.training.sampler import EpochBatchSampler
from transformrec.training.update import GradientSteps, Update, UpdateResult, UpdateStrategy
from transformrec.transforms.augment import RandomCropFlip
from transformrec.transforms.base import Transform
from transformrec.transforms.classifier_feedback import MixedBatchFeedback
from transformrec.transforms.transform_set import TransformSet

__all__ = ["BACKBONE_NAME", "CHECKPOINT_NAME", "NonFiniteLossError", "Trainer"]

BACKBONE_NAME = "backbone.pt"
DEFAULT_AUGMENT = RandomCropFlip()
"""Random crop (reflect padding 4) and horizontal flip: sec. 4.4's augmentation, and the YAML
``train.augment`` default, so a Python run and a config run augment alike (``augment=None``: off)."""


def _image_shape(data: Dataset) -> tuple[int, int, int] | None:
    """``C×H×W`` of the data's images: its first item's (the data set's own ``channels`` preferred)."""
    item = data[0]
    image = item[0] if isinstance(item, (tuple, list)) else item
    if not isinstance(image, torch.Tensor) or image.dim() != 3:
        return None
    channels = getattr(data, "channels", None) or image.shape[0]
    return int(channels), int(image.shape[1]), int(image.shape[2])


def _check_images(data: Dataset, backbone: torch.nn.Module, transforms: TransformSet) -> None:
    """Refuse, before any compute, images the run cannot train on: a channel count the backbone's
    first convolution does not take (grey Fashion-MNIST into an RGB ResNet), or a size a transform
    cannot work on (an LCI patch larger than the image) — instead of a shape error at the first step."""
    shape = _image_shape(data)
    if shape is None:
        return
    channels, height, width = shape
    transforms.check_image_size(height, width)
    first_conv = next((m for m in backbone.modules() if isinstance(m, torch.nn.Conv2d)), None)
    if first_conv is not None and channels != first_conv.in_channels:
        raise ValueError(
            f"data: images have {channels} channel(s) but the backbone's first convolution takes "
            f"{first_conv.in_channels}; build the backbone with in_channels={channels}"
        )


class Trainer(TrainingTask):
    """Train a transformation classifier: ``Trainer(transforms=[...], backbone=..., data=...).fit()``.

    Args:
        transforms: a TransformSet, or transforms / registered names to build one with ``mode``.
        backbone: a TappedBackbone, or a registered backbone name.
        data: a dataset yielding ``(image, label)``; labels are ignored (self-supervision). Transforms
            that choose samples before decoding wrap it in their modality's adapter
            (:meth:`Transform.adapt_data`): the temporal samplers of ch. 5 a VideoFolder in
            TemporalClips (``augment`` then crops and flips whole clips), the pair transforms of
            ch. 6 a MultiViewFolder in MultiViewPairs (``augment.hflip`` mirrors both frames).
        options: the training options (:class:`~transformrec.training.options.TrainOptions`: length,
            batch size, AdamW + cosine schedule of sec. 4.4, checkpoint and log cadence, AMP, ...),
            with the same defaults as a YAML config's ``train:`` section, which is one. Options may
            also be given as keywords (``Trainer(..., epochs=5, lr=1e-3)``); they override ``options``.
        augment: random crop + flip before transforming (sec. 4.4; by default padding 4 and a flip, as a
            config's ``train.augment``); ``None`` disables it.
        output_dir: where checkpoints, logs, the summary and exported weights go (None: nowhere).
        seed: seeds the model's initialisation and every random draw of the run.
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``.
        resume: continue from ``output_dir/checkpoint.pt`` if it exists, bit-for-bit on CPU (a warning
            names any setting that differs from the checkpoint's; without a checkpoint it says so).
        overwrite: replace a run already in ``output_dir``; without it (and without ``resume``) such a
            run is refused, so a finished run is never silently overwritten.
        progress: show progress of training (a bar on a terminal, plain lines in a log).
        monitor: an :class:`~transformrec.eval.online_monitor.OnlineMonitor`: kNN and linear-probe
            accuracy of a labelled set's frozen features every ``monitor.every`` steps, logged as
            ``monitor/<protocol>/<tap>`` (CSV, TensorBoard, the progress line) and kept in the
            summary's ``monitor`` history; ``None``: no monitoring.
        update: how a transformed batch becomes a parameter update (an
            :class:`~transformrec.training.update.UpdateStrategy`): plain gradient steps by default,
            or :class:`~transformrec.training.bilevel_update.BilevelSteps` (``k``, ``mu``,
            ``lambda_``, ...; ``balanced``) for the bilevel re-weighting of chapter 8 around the
            AdamW above: each step then draws ``k × batch_size`` images, transforms them, and splits
            the transformed batch into k mini-batches with identical transformation-label counts
            (Remark 1). The strategy decides how many images a step draws, whether AMP and
            ``torchrun`` are allowed, and what the run records about it.

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
        options: TrainOptions | None = None,
        *,
        augment: RandomCropFlip | None = DEFAULT_AUGMENT,
        output_dir: str | Path | None = None,
        seed: int = 0,
        device: str = "auto",
        resume: bool = False,
        overwrite: bool = False,
        progress: bool = True,
        monitor: OnlineMonitor | None = None,
        update: UpdateStrategy | None = None,
        **option_values: Any,
    ) -> None:
        self.options = opts = options_from(options, option_values)
        self.strategy = update if update is not None else GradientSteps()
        self.context = init_distributed(device)
        self.strategy.check_world_size(self.context.world_size)
        self.device = self.context.device
        torch.manual_seed(seed)
        if not isinstance(transforms, TransformSet):
            transforms = TransformSet(transforms, mode=opts.mode)  # registered names are built by the set
        self.transform_set = transforms
        self.backbone = build_backbone(backbone) if isinstance(backbone, str) else backbone
        example = data[0][0].unsqueeze(0) if transforms.dense_heads else None  # sizes dense heads (ch. 3 mask)
        self.model = PretextModel(self.backbone, transforms.num_classes, transforms.dense_heads, example)
        self.model.to(self.device)
        if opts.sync_batchnorm and self.context.enabled:  # same parameters, statistics over the global batch
            self.model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
            self.backbone = self.model.backbone
        for learned in transforms.learned_transforms:
            learned.to(self.device)
        # Frames or views may have to be chosen before decoding: the TransformSet says how (its modality's adapter).
        path = self.data_path = transforms.data_path(data, seed=seed, augment=augment)
        self.data, self.augment, self.prepared = path.dataset, path.batch_augment, path.prepared
        if not path.prepared:
            _check_images(data, self.backbone, transforms)
        self.epochs, self.run_steps, self.batch_size, self.seed = opts.epochs, opts.steps, opts.batch_size, seed
        self.lr, self.final_lr, self.betas, self.weight_decay = opts.lr, opts.final_lr, opts.betas, opts.weight_decay
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.resume = resume
        self.amp = opts.amp and self.device.type == "cuda" and self.strategy.allows_amp
        self.compile = opts.compile
        # NHWC lets cuDNN (and oneDNN on CPU) pick faster conv kernels; image batches only, same numbers.
        self.channels_last = opts.channels_last and not path.prepared
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.sampler = EpochBatchSampler(
            len(self.data),
            self.strategy.images_per_step(opts.batch_size),
            seed=seed,
            rank=self.context.rank,
            world_size=self.context.world_size,
        )
        self.loader = DataLoader(
            self.data,
            batch_sampler=self.sampler,
            num_workers=opts.num_workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
        )
        if opts.steps is not None:  # a length in steps: enough epochs to hold them, the schedule ends at the last
            self.epochs = math.ceil(opts.steps / len(self.sampler))
        self._total_steps = opts.steps if opts.steps is not None else self.epochs * len(self.sampler)
        self.optimizer = build_optimizer(
            self.model.parameters(), lr=opts.lr, betas=opts.betas, weight_decay=opts.weight_decay
        )
        self.scheduler = build_lr_schedule(self.optimizer, self._total_steps, opts.lr, opts.final_lr, opts.schedule)
        # Transform and augmentation randomness: the same generator on every rank, drawn for the
        # whole global batch (global-batch replay), saved in checkpoints.
        self.generator = torch.Generator().manual_seed(seed)
        self.update: Update = self.strategy.build(
            self.model,
            self.optimizer,
            self.context,
            self.generator,
            amp=self.amp,
            channels_last=self.channels_last,
            head_weights=transforms.head_weights,
        )
        self.epoch, self.batch_in_epoch = 0, 0
        self.monitor, self.monitor_history = monitor, []
        self._network: torch.nn.Module = self.model
        self.engine = TrainingEngine(
            self,
            output_dir=self.output_dir,
            context=self.context,
            checkpoint_every=opts.checkpoint_every,
            log_every=opts.log_every,
            max_steps=opts.max_steps,
            progress=progress,
            tensorboard=opts.tensorboard,
            overwrite=overwrite,
        )

    # ------------------------------------------------------------------ state
    progress_label = "pretrain"

    @property
    def total_steps(self) -> int:
        return self._total_steps

    def state_dict(self) -> dict[str, Any]:
        """The trainer's part of a checkpoint: weights, optimiser, schedule, generator, position."""
        return {
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "generator": self.generator.get_state(),
            "learned": [t.checkpoint_state() for t in self.transform_set.learned_transforms],
            "heads": {h: list(c) for h, c in self.transform_set.heads.items()},
            "monitor_history": list(self.monitor_history),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the label spaces must match this trainer's."""
        heads = {h: list(c) for h, c in self.transform_set.heads.items()}
        if state["heads"] != heads:
            raise ValueError(f"checkpoint was trained with heads {state['heads']}, this run declares {heads}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        for learned, learned_state in zip(self.transform_set.learned_transforms, state["learned"], strict=True):
            learned.load_checkpoint_state(learned_state)
        self.epoch, self.batch_in_epoch = state["epoch"], state["batch_in_epoch"]
        self.monitor_history = list(state.get("monitor_history", []))  # absent from older checkpoints

    # ------------------------------------------------------------------ training
    def fit(self, before_training: Callable[[], None] | None = None) -> dict[str, Any]:
        """Run training to the end (or ``max_steps``); returns the JSON summary. ``before_training``:
        called once the run owns its output folder (see :meth:`TrainingEngine.fit`)."""
        return self.engine.fit(resume=self.resume, before_training=before_training)

    def start(self, resumed: bool) -> None:
        """Learned transforms' pre-training phases (the ch. 3 autoencoder), then the model for the loop.

        A phase runs where it has steps left, so a run resumed from a checkpoint written mid-phase
        finishes it with the batches and random draws an uninterrupted run would have used. What a
        phase measures goes to ``pretraining_<transform>.csv`` (and TensorBoard) every ``log_every`` steps.
        """
        for learned in self.transform_set.learned_transforms:
            if not learned.pretraining_remaining():
                continue
            phase = f"{learned.name} pre-training"
            batches = progress(  # advances with every batch the phase draws
                self._real_batches(first=learned.pretrained_steps),
                total=learned.pretraining_length(),
                initial=learned.pretrained_steps,
                desc=phase,
                enabled=self.engine.progress and self.context.is_main,
            )

            log_name = f"pretraining_{learned.name}"  # its loss and lr by phase step, beside metrics.csv
            with self.engine.phase_log(log_name, learned.pretrained_steps if resumed else None) as logger:

                def after_step(metrics, learned=learned, phase=phase, logger=logger) -> None:
                    self.engine.after_phase_step(phase, learned.pretrained_steps, metrics, logger)

                try:
                    learned.pretrain(iter(batches), after_step)
                finally:
                    batches.close()
        self._network = self.model
        if self.context.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self._network = DistributedDataParallel(self.model, device_ids=ids)
        if self.compile:  # the steps run the compiled network; checkpoints and evaluation use self.model
            self._network = torch.compile(self._network)
        self.model.train()

    def steps(self) -> Iterator[StepOutcome]:
        """One step per batch, epoch after epoch, from the saved position (sampler and data set replay it)."""
        while self.epoch < self.epochs:
            self.sampler.set_position(self.epoch, self.batch_in_epoch)
            self.data_path.start_epoch(self.epoch)
            epoch = self.epoch
            for images, labels in self.loader:
                prepared = labels if self.prepared else None  # targets made by the adapter data set
                metrics = self._train_step(self._network, images.to(self.device, non_blocking=True), prepared)
                self.batch_in_epoch += 1
                end_of_epoch = self.batch_in_epoch >= len(self.sampler)
                if end_of_epoch:
                    self.epoch, self.batch_in_epoch = self.epoch + 1, 0
                yield StepOutcome(
                    metrics,
                    samples=images.shape[0] * self.context.world_size,
                    end_of_epoch=end_of_epoch,
                    log={"lr": self.scheduler.get_last_lr()[0], "epoch": epoch},
                )

    def _real_batches(self, first: int = 0) -> Iterator[torch.Tensor]:
        """Augmented real batches, epoch after epoch, for learned transforms' pre-training phases,
        from the ``first``-th batch of that stream on (a resumed phase).

        Under ``torchrun`` each rank gets its own images of the global batch, augmented with the
        draws of the whole global batch (global-batch replay), as in :meth:`_train_step`.
        """
        epoch, batch = divmod(first, len(self.sampler))
        while True:
            self.sampler.set_position(epoch, batch)
            for shard, _ in self.loader:
                images = gather_global_batch(shard.to(self.device, non_blocking=True), self.context)
                if self.augment is not None:
                    images = self.augment(images, self.generator)
                yield images[own_slice(images.shape[0], self.context)]
            epoch, batch = epoch + 1, 0

    def _train_step(
        self, network: torch.nn.Module, shard: torch.Tensor, prepared: dict[str, torch.Tensor] | None = None
    ) -> dict[str, float] | None:
        """One optimisation step on a loaded batch; ``None`` when its loss was not finite (skipped).

        ``prepared``: per-head targets already made by the data set (a modality adapter picked
        frames or views before decoding), with ``shard`` holding ``B×K`` transformed samples; the
        TransformSet is then not applied again.
        """
        metrics: dict[str, float] = {}
        if prepared is not None:
            inputs = shard.flatten(0, 1)
            targets = {head: t.flatten().to(self.device) for head, t in prepared.items()}
        else:
            images = gather_global_batch(shard, self.context)  # the global batch; ``shard`` in one process
            if self.augment is not None:
                images = self.augment(images, self.generator)
            inputs, targets = self.transform_set(images, self.generator)
            inputs = take_own_samples(inputs, images.shape[0], self.context)
            targets = {head: take_own_samples(t, images.shape[0], self.context) for head, t in targets.items()}
            if self.transform_set.learned_transforms:
                # Learned transforms are fed back by C as it is trained: inside this step's mixed batch.
                feedback = MixedBatchFeedback(
                    self.model,
                    inputs,
                    targets,
                    self.transform_set.rotation_jitter,
                    self.transform_set.heads,
                    self.generator,
                    self.transform_set,
                )
                for learned in self.transform_set.learned_transforms:
                    metrics.update(learned.update(images[own_slice(images.shape[0], self.context)], feedback))
        result: UpdateResult | None = self.update(network, inputs, targets)
        with warnings.catch_warnings():  # the schedule advances with the step count, update or not
            warnings.simplefilter("ignore", UserWarning)
            self.scheduler.step()
        if result is None:
            return None
        metrics.update(result.extra)
        metrics.update(result.head_metrics, loss=result.loss)
        return metrics

    def after_step(self, step: int) -> dict[str, float]:
        """The online monitor's accuracies at the steps it measures (main process only)."""
        if self.monitor is None or not self.context.is_main or not self.monitor.due(step, self.total_steps):
            return {}
        values = self.monitor(self.backbone, self.device)
        self.monitor_history.append({"step": step, **values})
        return values

    def summary(self) -> dict[str, Any]:
        monitored = {"monitor": self.monitor_history} if self.monitor is not None else {}
        return {
            **monitored,
            "epochs_completed": self.epoch,
            "heads": {h: list(c) for h, c in self.transform_set.heads.items()},
            "transforms": [repr(t) for t in self.transform_set.transforms],
            "mode": self.transform_set.mode,
            "backbone": type(self.backbone).__name__,
            "device": str(self.device),
            "world_size": self.context.world_size,
            **self.strategy.record(),
        }

    def run_signature(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "lr": self.lr,
            "final_lr": self.final_lr,
            "betas": list(self.betas),
            "weight_decay": self.weight_decay,
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "steps": self.run_steps,
            "num_samples": len(self.data),
            "mode": self.transform_set.mode,
            "transforms": [repr(t) for t in self.transform_set.transforms],
            "backbone": type(self.backbone).__name__,
            **self.strategy.record(),
        }

    def write_outputs(self, output_dir: Path) -> dict[str, Any]:
        """Export the backbone as a plain ``state_dict`` (loads into torchvision for ResNets), with
        ``backbone.json`` beside it: what the weights expect (``transformrec export`` reads both)."""
        save_atomic(self.backbone.state_dict(), output_dir / BACKBONE_NAME)
        (output_dir / CARD_NAME).write_text(json.dumps(backbone_card(self.backbone), indent=2) + "\n")
        return {"backbone_weights": str(output_dir / BACKBONE_NAME)}
