"""Frozen-feature extraction: turn a backbone and a dataset into per-tap feature matrices.

Why a separate step: the linear-classifier and nearest-neighbour protocols of sec. 4.4
(tables 4.2, 4.5, 4.6; fig. 4.6) all read *frozen* conv features. Extracting them once
and caching the matrices lets every classifier (one per tap, several ``k``) reuse a single
forward pass over the data.

Each conv map is resized to roughly 9k dimensions, as in the standard AlexNet linear-probe
protocol used by the methods compared in tables 3.4 and 4.5/4.6 (conv1 ``96×10×10``, conv2
``256×6×6``, conv3/conv4 ``384×5×5``, conv5 ``256×6×6``): pooled down where the map is larger and,
with ``resize="both"``, upsampled where it is smaller (at 32 px every AlexNet tap is smaller).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch import nn
from torch.utils.data import DataLoader, Dataset

from transformrec.backbones.base import TappedBackbone
from transformrec.runtime.progress import progress as progress_display

RESIZE_MODES = ("down", "both")


def pooled_size(
    channels: int, height: int, width: int, target_dim: int = 9216, resize: str = "down"
) -> tuple[int, int]:
    """Spatial output size used by :func:`pool_to_dim` for a ``channels×height×width`` map.

    The side is ``s = round(sqrt(target_dim / channels))`` (halves round up, at least 1) so
    that ``channels·s²`` is as close to ``target_dim`` as a square grid allows. With
    ``resize="down"`` each side is clamped to the map's own size, so a small map is never
    upsampled (sec. 4.4 trains classifiers "without resizing the feature-maps" on low-resolution
    inputs); with ``resize="both"`` every map is brought to ``s×s``, so every tap has about the same
    dimension (sec. 3.4: outputs "resized such that the flattened features are of similar size").
    """
    if channels <= 0 or height <= 0 or width <= 0:
        raise ValueError(f"feature map must be non-empty, got C={channels}, H={height}, W={width}")
    if resize not in RESIZE_MODES:
        raise ValueError(f"resize must be one of {RESIZE_MODES}, got {resize!r}")
    side = max(1, math.floor(math.sqrt(target_dim / channels) + 0.5))
    if resize == "both":
        return side, side
    return min(side, height), min(side, width)


def pool_to_dim(fmap: torch.Tensor, target_dim: int = 9216, resize: str = "down") -> torch.Tensor:
    """Flatten a tap into ``B×D`` features of about ``target_dim`` dimensions.

    Why: linear probes on different layers must see comparable input sizes (tables 3.4, 4.5/4.6),
    so every ``B×C×H×W`` map is adaptive-average-pooled down to the grid from :func:`pooled_size`
    and, with ``resize="both"``, bilinearly upsampled where the map is smaller than that grid.
    Vector taps (``B×D``) are returned as they are.
    """
    if fmap.dim() == 2:
        return fmap
    if fmap.dim() != 4:
        raise ValueError(f"expected a B×C×H×W map or a B×D vector, got shape {tuple(fmap.shape)}")
    _, channels, height, width = fmap.shape
    size = pooled_size(channels, height, width, target_dim, resize)
    pooled = (min(size[0], height), min(size[1], width))
    if pooled != (height, width):
        fmap = F.adaptive_avg_pool2d(fmap, pooled)
    if pooled != size:
        fmap = F.interpolate(fmap, size=size, mode="bilinear", align_corners=False)
    return fmap.flatten(1)


def dataset_labels(dataset: Dataset) -> torch.Tensor:
    """Labels of ``dataset`` as a LongTensor, read from ``dataset.labels`` when it exists.

    Why: low-shot subsets (sec. 4.4 transfer with few labels) must be drawn without decoding
    every image; datasets of this library expose ``labels``, anything else is iterated.
    """
    labels = getattr(dataset, "labels", None)
    if labels is None:
        labels = [int(dataset[i][1]) for i in range(len(dataset))]  # type: ignore[arg-type]
    return torch.as_tensor(labels, dtype=torch.long)


def dataset_num_classes(dataset: Dataset, labels: torch.Tensor | None = None) -> int:
    """Number of classes: ``dataset.num_classes`` if present, else ``max(label) + 1``."""
    num_classes = getattr(dataset, "num_classes", None)
    if num_classes is not None:
        return int(num_classes)
    labels = dataset_labels(dataset) if labels is None else labels
    return int(labels.max()) + 1


def standardization_stats(reference: torch.Tensor, eps: float = 1e-8) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension mean and (population) std of ``reference`` (``N×D``) for standardizing.

    Why: sec. 4.4 standardizes features before nearest-neighbour search, and linear probes
    train better on standardized inputs; statistics always come from the *reference/train*
    side so no test information leaks. Constant dimensions get ``std = 1`` instead of
    blowing up query values that differ from the constant.
    """
    if reference.dim() != 2 or reference.shape[0] == 0:
        raise ValueError(f"reference features must be a non-empty N×D matrix, got {tuple(reference.shape)}")
    reference = reference.float()
    mean = reference.mean(0)
    std = reference.std(0, unbiased=False)
    std = torch.where(std > eps, std, torch.ones_like(std))
    return mean, std


def _module_device(module: nn.Module) -> torch.device | None:
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return None


def extract_features(
    backbone: TappedBackbone,
    dataset: Dataset,
    taps: Sequence[str] | None = None,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    target_dim: int = 9216,
    num_workers: int = 0,
    resize: str = "down",
    progress: bool = False,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Run the frozen backbone over ``dataset`` and return pooled features per tap and labels.

    Why: the evaluations of sec. 4.4 treat the pre-trained network as a *fixed* feature
    extractor, so this runs in eval mode (batch-norm uses running statistics) without
    autograd. The backbone's per-module training flags and its device are restored
    afterwards, so calling this in the middle of training has no side effects.

    Returns ``({tap: N×D float32 CPU tensor}, N labels)`` in dataset order; ``taps`` default
    to all of ``backbone.tap_names``. ``resize`` is :func:`pool_to_dim`'s; ``progress`` shows a bar.
    """
    taps = tuple(backbone.tap_names if taps is None else taps)
    if not taps:
        raise ValueError("no taps requested")
    backbone.check_taps(taps)
    device = torch.device(device)
    training_flags = {module: module.training for module in backbone.modules()}
    original_device = _module_device(backbone)
    # A private generator: even an unshuffled loader draws a worker seed, which would advance the global RNG.
    loader = DataLoader(
        dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers, generator=torch.Generator()
    )
    chunks: dict[str, list[torch.Tensor]] = {tap: [] for tap in taps}
    labels: list[torch.Tensor] = []
    try:
        backbone.to(device)
        backbone.eval()
        with torch.no_grad():
            for images, targets in progress_display(loader, desc="features", enabled=progress, leave=False):
                outputs = backbone.forward_taps(images.to(device), taps)
                for tap in taps:
                    chunks[tap].append(pool_to_dim(outputs[tap], target_dim, resize).float().cpu())
                labels.append(torch.as_tensor(targets, dtype=torch.long))
    finally:
        for module, flag in training_flags.items():
            module.training = flag  # per module, not .train(): mixed modes survive
        if original_device is not None:
            backbone.to(original_device)
    if not labels:
        raise ValueError("cannot extract features from an empty dataset")
    features = {tap: torch.cat(parts) for tap, parts in chunks.items()}
    return features, torch.cat(labels)
