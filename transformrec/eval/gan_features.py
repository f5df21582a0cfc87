"""The offline feature extractor for FID / IS (``transformrec.eval.fid``): a classifier of the training data.

The thesis scores generators with Inception-v3 [33, 215]: that is
:func:`~transformrec.eval.fid_inception.fid_inception_extractor`, the standard FID network, whose
weights are downloaded once. Offline, ``classifier_extractor`` is a small CNN trained on the
training data's labels in a minute on a CPU (``fashion_mnist_extractor``: on Fashion-MNIST), whose
penultimate layer (features) and class logits play Inception's roles; its scores compare runs with
each other, not with published FIDs. Both take generator images in [−1, 1].
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch import nn

from transformrec.atomic_save import save_atomic
from transformrec.eval.fid import FeatureExtractor


class ImageClassifier(nn.Module):
    """Two conv blocks and a 128-d hidden layer: features for FID, class logits for IS.

    Small enough to train in a minute on a CPU on any labelled image set (Fashion-MNIST by default:
    one channel, ten classes), so FID / IS need no download.
    """

    def __init__(self, image_size: int = 32, channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        self.image_size = image_size
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * (image_size // 4) ** 2, 128),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(128, num_classes)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(images)
        return features, self.classifier(features)


FashionMNISTClassifier = ImageClassifier
"""The Fashion-MNIST case of :class:`ImageClassifier` (its defaults), under its earlier name."""


def train_image_classifier(
    images: torch.Tensor, labels: torch.Tensor, num_classes: int, steps: int = 600, batch: int = 128, seed: int = 0
) -> ImageClassifier:
    """Train an :class:`ImageClassifier` on images in [−1, 1] (G's range) with Adam; returns it in eval mode."""
    torch.manual_seed(seed)
    model = ImageClassifier(images.shape[-1], images.shape[1], num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        index = torch.randint(len(images), (batch,), generator=generator)
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(images[index])[1], labels[index]).backward()
        optimizer.step()
    return model.eval()


def train_fashion_mnist_classifier(
    steps: int = 600, image_size: int = 32, batch: int = 128, seed: int = 0, limit: int | None = None
) -> ImageClassifier:
    """Train the offline extractor on the Fashion-MNIST train split, images mapped to [−1, 1] like G's output."""
    from transformrec.data.fashion_mnist import FashionMNIST

    data = FashionMNIST(split="train", image_size=image_size)
    count = len(data) if limit is None else min(limit, len(data))
    return train_image_classifier(data.stacked(count) * 2 - 1, data.labels[:count].clone(), 10, steps, batch, seed)


def _load_or_train(model: ImageClassifier, cache: str | Path | None, train) -> FeatureExtractor:
    """``model``'s weights from ``cache`` if the file exists, else ``train()`` (saved to ``cache``); as an extractor."""
    if cache is not None and Path(cache).is_file():
        model.load_state_dict(torch.load(cache, map_location="cpu", weights_only=True))
    else:
        model = train()
        if cache is not None:
            save_atomic(model.state_dict(), cache)
    model.eval()

    @torch.no_grad()
    def extract(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return model(images)

    return extract


def classifier_extractor(
    images: torch.Tensor, labels: torch.Tensor, num_classes: int, cache: str | Path | None = None, steps: int = 600
) -> FeatureExtractor:
    """The offline FID/IS extractor for any labelled image set (images in [−1, 1]), cached in ``cache``."""
    model = ImageClassifier(images.shape[-1], images.shape[1], num_classes)
    return _load_or_train(model, cache, lambda: train_image_classifier(images, labels, num_classes, steps))


def fashion_mnist_extractor(cache: str | Path | None = None, steps: int = 600, image_size: int = 32):
    """The offline FID/IS extractor for Fashion-MNIST, loaded from ``cache`` if present, else trained there."""
    return _load_or_train(ImageClassifier(image_size), cache, lambda: train_fashion_mnist_classifier(steps, image_size))
