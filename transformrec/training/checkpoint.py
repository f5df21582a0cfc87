"""Checkpoint files: written atomically (:mod:`transformrec.atomic_save`), loaded with ``weights_only=True``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from transformrec.atomic_save import save_atomic

__all__ = ["load_checkpoint", "save_atomic", "state_dict_mismatch"]


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``), naming the file in any error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # unpickling errors come in many types
        raise RuntimeError(f"cannot load checkpoint {path}: {error}") from error


def state_dict_mismatch(error: RuntimeError) -> str:
    """The line of a ``load_state_dict`` error that says what does not fit (a size mismatch, a missing key).

    Why: torch lists every mismatching tensor, dozens of lines for a model of another width; one
    line naming the first is what a person needs to see which setting differs.
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    telling = ("size mismatch", "Missing key", "Unexpected key")
    return next((line for line in lines if line.startswith(telling)), lines[0] if lines else "").rstrip(".:")
