"""Turning a validated ExperimentConfig into datasets, backbones, transform sets and a Trainer."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch.utils.data import Dataset

from transformrec.backbones.base import TappedBackbone
from transformrec.backbones.registry import BACKBONES, build_backbone
from transformrec.config.loading import ConfigError
from transformrec.config.schema import Component, ExperimentConfig
from transformrec.data.registry import build_dataset
from transformrec.eval.online_monitor import OnlineMonitor
from transformrec.training.bilevel_update import BilevelSteps
from transformrec.training.trainer import Trainer
from transformrec.transforms.augment import RandomCropFlip
from transformrec.transforms.registry import TRANSFORMS, build_transform
from transformrec.transforms.rotation_jitter import RotationJitter
from transformrec.transforms.transform_set import TransformSet


def build_data(component: Component, field: str = "data") -> Dataset:
    """Build a dataset from its config component; a bad parameter or an empty set names ``field``."""
    try:
        dataset = build_dataset(component.name, **component.params)
    except (ValueError, TypeError, OverflowError) as error:
        raise ConfigError(f"{field} ({component.name}): {error}") from None
    if len(dataset) == 0:  # type: ignore[arg-type]
        raise ConfigError(f"{field} ({component.name}): the data set is empty")
    return dataset


def build_backbone_for(component: Component, dataset: Dataset, seed: int = 0) -> TappedBackbone:
    """Build a backbone, filling ``in_channels`` / ``image_size`` from the dataset when not given.

    Seeded so that the "random init" baseline of an evaluation is the same network every time.
    """
    accepted = BACKBONES.run_inputs(component.name)
    params = dict(component.params)
    for key, attribute in (("in_channels", "channels"), ("image_size", "image_size")):
        if key in accepted and key not in params and hasattr(dataset, attribute):
            params[key] = getattr(dataset, attribute)
    try:
        _refuse_weights_beyond_memory(component.name, params)
        torch.manual_seed(seed)
        return build_backbone(component.name, **params)
    except (ValueError, TypeError, OverflowError, MemoryError) as error:  # e.g. a width no memory can hold
        raise ConfigError(f"backbone ({component.name}): {error}") from None
    except RuntimeError as error:  # torch's allocator: "can't allocate memory", a negative dimension
        raise ConfigError(f"backbone ({component.name}): {' '.join(str(error).split())[:300]}") from None


def _physical_memory_bytes() -> int | None:
    """This machine's RAM (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _refuse_weights_beyond_memory(name: str, params: dict) -> None:
    """Count the backbone's parameters on the meta device (no memory) and refuse weights larger than
    half of this machine's RAM, in one line naming the count.

    Why: a width or ``fc_dim`` a few times too large asks for tens of GB; Linux grants it, then the
    weights' initialisation swaps for minutes or is killed, instead of an error. Training needs
    about four times the weights (gradients, Adam's two moments), so half the RAM is already
    beyond any run. A backbone that cannot be built on the meta device is left to the real build.
    """
    memory = _physical_memory_bytes()
    if memory is None:
        return
    try:
        with torch.device("meta"):
            probe = build_backbone(name, **params)
    except (ValueError, TypeError, OverflowError, RuntimeError, NotImplementedError):
        return  # the real build below raises the same error, or does not need the meta device
    count = sum(parameter.numel() for parameter in probe.parameters())
    if 4 * count > memory // 2:
        raise ValueError(
            f"{count:.3g} parameters ({4 * count / 1e9:.3g} GB of float32 weights) exceed half of this machine's "
            f"{memory / 1e9:.3g} GB of memory; lower width, fc_dim or image_size"
        )


def build_monitor(config: ExperimentConfig, backbone: TappedBackbone) -> OnlineMonitor | None:
    """The online monitor of ``config.monitor``; its data set and taps are checked now, before training."""
    spec = config.monitor
    if spec is None:
        return None
    unknown = [tap for tap in spec.taps or () if tap not in backbone.tap_names]
    if unknown:
        known = ", ".join(backbone.tap_names)
        raise ConfigError(f"monitor.taps: {', '.join(unknown)} not among the backbone's {known}")
    data = build_data(spec.data, "monitor.data")
    try:
        return OnlineMonitor(data, spec.every, spec.taps, spec.protocols, spec.k, spec.num_images, seed=config.seed)
    except ValueError as error:
        raise ConfigError(f"monitor: {error}") from None


def build_transform_set(config: ExperimentConfig, dataset: Dataset | None = None) -> TransformSet:
    """The TransformSet declared by ``config.transforms`` in ``config.train.mode``.

    Transforms with networks of their own (LCI) get ``channels`` from the dataset when not given,
    and ``seed`` from the experiment, so a config never has to repeat them.
    """
    transforms = []
    for index, component in enumerate(config.transforms):
        accepted = TRANSFORMS.run_inputs(component.name)
        params = dict(component.params)
        if "channels" in accepted and "channels" not in params and hasattr(dataset, "channels"):
            params["channels"] = dataset.channels
        if "seed" in accepted and "seed" not in params:
            params["seed"] = config.seed
        try:
            transforms.append(build_transform(component.name, **params))
        except (ValueError, TypeError, OverflowError, MemoryError) as error:  # a parameter the factory rejects
            raise ConfigError(f"transforms[{index}] ({component.name}): {error}") from None
        except RuntimeError as error:  # a learned transform's networks too large to allocate
            raise ConfigError(f"transforms[{index}] ({component.name}): {' '.join(str(error).split())[:300]}") from None
    jitter = config.train.rotation_jitter
    if jitter is None:
        return TransformSet(transforms, mode=config.train.mode)
    rotation_jitter = RotationJitter(**jitter.model_dump())
    try:  # named by its field here, before the set is built: the set's own errors stay as they were
        rotation_jitter.check_classes([n for t in transforms for n in t.variant_names()])
    except ValueError as error:
        raise ConfigError(f"train.rotation_jitter: {error}") from None
    return TransformSet(transforms, mode=config.train.mode, rotation_jitter=rotation_jitter)


def build_trainer(
    config: ExperimentConfig, resume: bool = False, progress: bool = True, overwrite: bool = False
) -> Trainer:
    """A Trainer for the pretext task of ``config``, writing to ``config.output_dir``."""
    data = build_data(config.data)
    train = config.train
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    if train.batch_size % processes:
        raise ConfigError(
            f"train.batch_size: {train.batch_size} is not divisible by the {processes} torchrun processes"
        )
    per_step = train.batch_size * (train.bilevel.k if train.bilevel is not None else 1)
    if len(data) < per_step:  # type: ignore[arg-type]
        raise ConfigError(
            f"data ({config.data.name}): {len(data)} items, fewer than the {per_step} one step uses "  # type: ignore[arg-type]
            "(train.batch_size, times bilevel.k)"
        )
    augment = RandomCropFlip(train.augment.padding, train.augment.hflip) if train.augment is not None else None
    transforms = build_transform_set(config, data)  # first: learned transforms draw their init from the global RNG
    backbone = build_backbone_for(config.backbone, data, config.seed)
    try:
        return _trainer(config, data, transforms, backbone, augment, resume, progress, overwrite)
    except ValueError as error:  # set-up checks before compute (image channels and size, torchrun rules)
        raise ConfigError(str(error)) from None


def _trainer(
    config: ExperimentConfig,
    data: Dataset,
    transforms: TransformSet,
    backbone: TappedBackbone,
    augment: RandomCropFlip | None,
    resume: bool,
    progress: bool,
    overwrite: bool,
) -> Trainer:
    train = config.train
    return Trainer(
        transforms,
        backbone,
        data,
        train,  # the config's train section is the Trainer's options (TrainOptions), defaults included
        augment=augment,
        output_dir=Path(config.output_dir),
        seed=config.seed,
        device=config.device,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
        monitor=build_monitor(config, backbone),
        update=BilevelSteps(**train.bilevel.model_dump()) if train.bilevel is not None else None,
    )
