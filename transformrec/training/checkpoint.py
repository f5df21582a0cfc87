"""Checkpoint files: written atomically (:mod:`transformrec.atomic_save`), loaded with ``weights_only=True``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from transformrec.atomic_save import save_atomic
from transformrec.errors import CheckpointError

__all__ = ["load_checkpoint", "save_atomic", "state_dict_mismatch"]


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``), naming the file in any error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: the file is empty (a save that never finished?)")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except OSError:
        raise  # unreadable (permissions, I/O): the OS's own message names the file
    except Exception as error:  # unpickling errors come in many types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(
            f"{path}: not a readable checkpoint of this project (truncated, or another program's file): {first_line}"
        ) from None


def checkpoint_entry(state: Any, key: str, path: str | Path, what: str) -> Any:
    """``state[key]``, or a :class:`~transformrec.errors.CheckpointError` naming the file when the
    loaded object is not a mapping holding it (``what``: the kind of checkpoint that would)."""
    if not isinstance(state, dict) or key not in state:
        found = f"keys {sorted(state)[:8]}" if isinstance(state, dict) else f"a {type(state).__name__}"
        raise CheckpointError(f"{path}: not {what} (no {key!r} entry; found {found})")
    return state[key]


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
    states = checkpoint_entry(load_checkpoint(checkpoint), "learned", checkpoint, "a pretraining checkpoint")
    if len(states) != len(transform_set.learned_transforms):
        raise CheckpointError(
            f"{checkpoint}: holds {len(states)} learned transform(s), the config declares "
            f"{len(transform_set.learned_transforms)}; use the checkpoint of a run with these transforms"
        )
    try:
        for learned, state in zip(transform_set.learned_transforms, states, strict=True):
            learned.load_checkpoint_state(state)
    except (RuntimeError, KeyError, TypeError) as error:
        raise CheckpointError(f"{checkpoint}: its learned transforms do not fit this config's ({error})") from None
    return True
