"""Registry of backbone factories (``build_backbone("alexnet_bn", width=0.5)``)."""

from __future__ import annotations

from typing import Any

from transformrec.backbones.base import TappedBackbone
from transformrec.registry import Registry

BACKBONES: Registry[TappedBackbone] = Registry("backbone")
register_backbone = BACKBONES.register


def build_backbone(name: str, **kwargs: Any) -> TappedBackbone:
    """Build the backbone registered as ``name``; it remembers how (``registry_spec``).

    Why remember: an exported backbone is rebuilt from its registry name and arguments
    (:func:`transformrec.backbones.export.load_exported`), so the run that trained it records them
    beside its weights.
    """
    backbone = BACKBONES.build(name, **kwargs)
    backbone.registry_spec = {"name": name, "params": dict(kwargs)}
    return backbone


def list_backbones() -> list[str]:
    """Names of all registered backbones."""
    return BACKBONES.names()
