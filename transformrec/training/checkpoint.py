"""Checkpoint files: written atomically (:mod:`transformrec.atomic_save`), loaded with ``weights_only=True``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from transformrec.atomic_save import save_atomic

__all__ = ["load_checkpoint", "save_atomic"]


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``), naming the file in any error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # unpickling errors come in many types
        raise RuntimeError(f"cannot load checkpoint {path}: {error}") from error
