"""Build a GAN run (``kind: gan``) from its config: the images, then the trainer that takes them.

Why a builder: :class:`~transformrec.training.gan_trainer.GANTrainer` sits below the config layer
and takes built parts; reading data sets by name, choosing their test split and checking their
image size happen here, once, with errors that name the config field.
"""

from __future__ import annotations

from pathlib import Path

import torch

from transformrec.config.build import build_data
from transformrec.config.gan_schema import GANConfig
from transformrec.config.loading import load_config
from transformrec.config.schema import Component
from transformrec.data.in_memory import stack_images
from transformrec.data.registry import DATASETS
from transformrec.errors import ConfigError
from transformrec.eval.fid import FeatureExtractor
from transformrec.training.gan_trainer import GANImages, GANTrainer

__all__ = [
    "GANConfig",
    "GANImages",
    "GANTrainer",
    "build_gan_images",
    "build_gan_trainer",
    "fashion_mnist_images",
    "gan_images",
    "load_gan_config",
]


def load_gan_config(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> GANConfig:
    """Read a GAN config (``kind: gan``) with ``--set`` overrides; errors name file and field."""
    return load_config(path, overrides, kind="gan")


def gan_images(
    component: Component, image_size: int, count: int | None = None, field: str = "data"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images of a registered data set in [−1, 1] (G's tanh range) and their labels.

    ``image_size`` is passed to the data set's factory when it takes one and the config leaves it
    out; images of another size are an error naming ``field``.
    """
    params = dict(component.params)
    if "image_size" in DATASETS.run_inputs(component.name):
        params.setdefault("image_size", image_size)
    dataset = build_data(Component(name=component.name, params=params), field)
    images, labels = stack_images(dataset, count)
    if tuple(images.shape[-2:]) != (image_size, image_size):
        raise ConfigError(
            f"{field} ({component.name}): images are {images.shape[-1]}×{images.shape[-2]} px, "
            f"but image_size is {image_size}"
        )
    return images * 2 - 1, labels


def fashion_mnist_images(split: str, image_size: int, count: int | None = None) -> torch.Tensor:
    """Fashion-MNIST images in [−1, 1], the range of G's tanh output."""
    return gan_images(Component(name="fashion_mnist", params={"split": split}), image_size, count)[0]


def _test_split_of(config: GANConfig) -> Component:
    """``eval.real_data``, else the training data set with ``split: test``."""
    if config.eval.real_data is not None:
        return config.eval.real_data
    if "split" not in DATASETS.run_inputs(config.data.name):
        raise ConfigError(f"data ({config.data.name}) has no test split; set eval.real_data to score FID / IS")
    return Component(name=config.data.name, params={**config.data.params, "split": "test"})


def build_gan_images(config: GANConfig) -> GANImages:
    """``config.data``'s first ``train_images`` images, and a loader of the ``eval.samples``
    evaluation images (``eval.real_data``, else the data set's test split), read on first use."""
    train, labels = gan_images(config.data, config.image_size, config.train_images)

    def test_images() -> torch.Tensor:
        return gan_images(_test_split_of(config), config.image_size, config.eval.samples, "eval.real_data")[0]

    return GANImages(train, labels, test_images)


def build_gan_trainer(
    config: GANConfig,
    extractor: FeatureExtractor | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> GANTrainer:
    """The trainer of one GAN config, its images built from ``config.data`` (see :class:`GANTrainer`)."""
    return GANTrainer(config, build_gan_images(config), extractor, progress=progress, overwrite=overwrite)
