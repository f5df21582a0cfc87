"""Export self-supervised backbones as plain torchvision weights.

Why: features learned by recognizing transformations are meant to be transferred (thesis
section 4.4 transfers them to classification, detection and segmentation). Downstream code
usually builds ``torchvision.models.resnetXX()``, so we hand it a ``state_dict`` it can load
without importing this library.

Loading the result::

    model = torchvision.models.resnet18()
    missing, unexpected = model.load_state_dict(torch.load(path, weights_only=True), strict=False)
    # missing == ["fc.weight", "fc.bias"]: the pretext heads are not exported, so either keep
    # torchvision's freshly initialised fc or replace it with your own classifier.

If the backbone was built with ``low_resolution=True`` or ``in_channels != 3`` its conv1 (and
maxpool) differ from torchvision's stock stem; export then requires ``allow_modified_stem=True``
and the user must build the torchvision model with the same conv1 (and ``maxpool = Identity()``).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from transformrec.atomic_save import save_atomic
from transformrec.backbones.alexnet import AlexNetBN
from transformrec.backbones.base import TappedBackbone
from transformrec.backbones.resnet import TorchvisionResNet


def export_torchvision_state_dict(
    backbone: TappedBackbone, *, allow_modified_stem: bool = False
) -> dict[str, torch.Tensor]:
    """A ``state_dict`` loadable into ``torchvision.models.<arch>()`` (strict except ``fc.*``).

    Tensors are detached CPU copies, so the result is independent of later training steps.
    Raises ``TypeError`` for backbones without a torchvision equivalent (``AlexNetBN``: batch
    normalization and grouped convolutions have no counterpart in ``torchvision.models.alexnet``)
    and ``ValueError`` for a modified stem unless ``allow_modified_stem`` is set.
    """
    if isinstance(backbone, AlexNetBN):
        raise TypeError(
            "AlexNetBN has no torchvision equivalent (it uses batch normalization and two-stream grouped "
            "convolutions, torchvision's alexnet has neither); save its own state_dict instead"
        )
    if not isinstance(backbone, TorchvisionResNet):
        raise TypeError(f"cannot export {type(backbone).__name__} to torchvision weights; only ResNets are supported")
    if backbone.has_modified_stem and not allow_modified_stem:
        raise ValueError(
            f"this {backbone.arch} has a modified stem (low_resolution={backbone.low_resolution}, "
            f"in_channels={backbone.in_channels}), so a stock torchvision.models.{backbone.arch}() cannot load it; "
            "pass allow_modified_stem=True and build the torchvision model with the same conv1 "
            "(and maxpool=nn.Identity() for low_resolution)"
        )
    # Our submodule names are torchvision's (see resnet.py), so the mapping is the identity on keys.
    return {key: value.detach().cpu().clone() for key, value in backbone.state_dict().items()}


def save_torchvision_weights(
    backbone: TappedBackbone, path: str | os.PathLike[str], *, allow_modified_stem: bool = False
) -> Path:
    """Write :func:`export_torchvision_state_dict` to ``path`` atomically; returns the path.

    Why atomic: an interrupted save must never leave a truncated checkpoint under the final
    name (:func:`~transformrec.atomic_save.save_atomic`). The file
    holds only tensors, so ``torch.load(path, weights_only=True)`` reads it.
    """
    return save_atomic(export_torchvision_state_dict(backbone, allow_modified_stem=allow_modified_stem), path)
