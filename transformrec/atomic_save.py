"""Atomic ``torch.save``: the one place that writes files others may later resume from.

Why atomic: a run killed while writing must never leave a truncated file behind the name the
next run loads. We write to a temporary file in the same directory, fsync it and ``os.replace``
it over the target, which is atomic on POSIX file systems.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch


def save_atomic(obj: Any, path: str | os.PathLike[str]) -> Path:
    """``torch.save`` ``obj`` to ``path`` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(obj, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_name, path)
    except RuntimeError as error:  # torch reports a failed write (a full disk) as a RuntimeError
        Path(tmp_name).unlink(missing_ok=True)
        reason = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
        kept = f"any previous {path.name} is kept"
        raise OSError(f"cannot write {path}: {reason} (the disk may be full; {kept})") from None
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
