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

import hashlib
import json
import os
from pathlib import Path
from typing import Any

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


# --------------------------------------------------------------------------- run exports
EXPORT_FORMATS = ("torchvision", "timm", "native")
CARD_NAME = "backbone.json"
INPUT = {
    "range": [0.0, 1.0],
    "mean": None,
    "std": None,
    "layout": "float32 NCHW",
    "note": "images scaled to [0, 1], no mean/std normalisation: what the pretext task was trained on",
}


def _first_conv(backbone: torch.nn.Module) -> torch.nn.Module | None:
    return next((m for m in backbone.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d))), None)


def backbone_card(backbone: TappedBackbone) -> dict[str, Any]:
    """What a backbone's weights expect, written beside them (``backbone.json``) by a pretraining run.

    The registry name and arguments it was built with (``registry_spec``, set by
    :func:`~transformrec.backbones.registry.build_backbone`), its stem, input channels and size,
    and the input range and normalisation; everything :func:`export_run` and :func:`load_exported`
    need without reading the run's config or data.
    """
    conv = _first_conv(backbone)
    card: dict[str, Any] = {
        "class": type(backbone).__name__,
        "registry": getattr(backbone, "registry_spec", None),
        "in_channels": int(conv.in_channels) if conv is not None else None,
        "image_size": getattr(backbone, "image_size", None),
        "taps": list(backbone.tap_names),
        "feature_dim": backbone.feature_dim,
        "input": INPUT,
    }
    if isinstance(backbone, TorchvisionResNet):
        card["arch"] = backbone.arch
        card["stem"] = "low_resolution (3x3 conv1, no maxpool)" if backbone.low_resolution else "torchvision"
    return card


def _load_instructions(card: dict[str, Any], fmt: str, weights: str) -> str:
    arch, channels = card.get("arch"), card.get("in_channels")
    if fmt == "torchvision":
        lines = [f"model = torchvision.models.{arch}()"]
        if channels != 3:
            lines.append(f"model.conv1 = torch.nn.Conv2d({channels}, 64, 7, 2, 3, bias=False)")
        lines.append(f"model.load_state_dict(torch.load({weights!r}, weights_only=True), strict=False)  # fc stays new")
        return "; ".join(lines)
    if fmt == "timm":
        chans = f", in_chans={channels}" if channels != 3 else ""
        return (
            f"model = timm.create_model({arch!r}, num_classes=0{chans}); "
            f"model.load_state_dict(torch.load({weights!r}, weights_only=True))"
        )
    return f"model = transformrec.backbones.export.load_exported({weights!r})"


def export_run(run_dir: str | os.PathLike[str], fmt: str = "torchvision", out_dir: str | None = None) -> Path:
    """Export a pretraining run's backbone for ``fmt``; returns the path of the weights file.

    Reads ``backbone.pt`` and ``backbone.json`` of ``run_dir`` and writes
    ``backbone_<fmt>.pt`` (a plain ``state_dict``, readable with ``torch.load(weights_only=True)``)
    and ``backbone_<fmt>.json`` (the card, the format, the line of code that loads it and the
    sha256 of the run's ``config.yaml``) into ``out_dir`` (default: the run folder).

    ``torchvision`` / ``timm``: ResNets, whose module names are torchvision's and timm's (the
    pretext heads are not exported: ``fc`` stays freshly initialised, or ``num_classes=0`` in timm);
    a low-resolution stem has no equivalent in either and is refused (use ``native``).
    ``native``: any backbone built by name, rebuilt by :func:`load_exported`.
    """
    run = Path(run_dir)
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    weights_path, card_path = run / "backbone.pt", run / CARD_NAME
    for needed in (weights_path, card_path):
        if not needed.is_file():
            raise FileNotFoundError(f"{needed}: not found; export reads a finished pretraining run's folder")
    card = json.loads(card_path.read_text())
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    if fmt in ("torchvision", "timm"):
        if card.get("class") != "TorchvisionResNet":
            raise ValueError(
                f"{run}: {card.get('class')} has no {fmt} equivalent (only ResNets do); use --format native"
            )
        if card.get("stem") != "torchvision":
            raise ValueError(f"{run}: its ResNet has a {card.get('stem')} stem, which {fmt} cannot build; use native")
    elif not card.get("registry"):
        raise ValueError(f"{run}: its backbone was not built by name (build_backbone), so it cannot be rebuilt")
    target = Path(out_dir) if out_dir is not None else run
    target.mkdir(parents=True, exist_ok=True)
    out_weights = save_atomic(state, target / f"backbone_{fmt}.pt")
    config = run / "config.yaml"
    sidecar = {
        **card,
        "format": fmt,
        "weights": out_weights.name,
        "load": _load_instructions(card, fmt, str(out_weights)),
        "config_sha256": hashlib.sha256(config.read_bytes()).hexdigest() if config.is_file() else None,
    }
    (target / f"backbone_{fmt}.json").write_text(json.dumps(sidecar, indent=2) + "\n")
    return out_weights


def load_exported(weights: str | os.PathLike[str]) -> TappedBackbone:
    """Rebuild a ``native`` export: the backbone named in its JSON sidecar, with its weights, in eval mode."""
    from transformrec.backbones.registry import build_backbone

    path = Path(weights)
    card = json.loads(path.with_suffix(".json").read_text())
    spec = card.get("registry")
    if not spec:
        raise ValueError(f"{path.with_suffix('.json')}: names no registered backbone to rebuild")
    backbone = build_backbone(spec["name"], **spec["params"])
    backbone.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return backbone.eval()
