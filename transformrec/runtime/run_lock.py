"""One run per output folder: an exclusive lock file held while a run trains there.

Why: two processes started on the same ``output_dir`` used to both finish "successfully", one run
silently replacing the other and their logs interleaved. The lock is ``flock`` on
``<output_dir>/.run.lock``: the kernel releases it when its process dies however it dies, so a
lock file left by a killed run never blocks the next one (the next run takes it over and says
whose it was); a live holder is named in the refusal.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from transformrec.errors import RunLockedError

log = logging.getLogger(__name__)

LOCK_NAME = ".run.lock"


@contextlib.contextmanager
def run_lock(output_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold ``output_dir``'s run lock for the ``with`` block; :class:`RunLockedError` if another
    live process holds it."""
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 64, 0).decode(errors="replace").strip() or "unknown"
            raise RunLockedError(
                f"{folder} is in use by another run (process {holder}); wait for it to end, stop it, "
                "or choose another output_dir"
            ) from None
        previous = os.pread(handle, 64, 0).decode(errors="replace").strip()
        if previous and previous != str(os.getpid()):
            log.info("%s: took over the lock of process %s, which is no longer running", folder, previous)
        os.ftruncate(handle, 0)
        os.pwrite(handle, str(os.getpid()).encode(), 0)
        yield path
    finally:
        os.close(handle)  # closing the descriptor releases the flock
