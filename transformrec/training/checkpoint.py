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


def load_learned_transforms(transform_set: Any, checkpoint: str | Path | None) -> bool:
    """Load ``transform_set``'s learned transforms (LCI, damage & repair) from a training checkpoint.

    Why one helper: what a learned transform looks like (``transformrec show``) and whether it can be
    told from local patches (``transformrec audit``) are only meaningful for the trained networks.
    Returns whether anything was loaded (False without a checkpoint or without learned transforms).
    """
    if checkpoint is None or not transform_set.learned_transforms:
        return False
    states = load_checkpoint(checkpoint)["learned"]
    for learned, state in zip(transform_set.learned_transforms, states, strict=True):
        learned.load_checkpoint_state(state)
    return True
