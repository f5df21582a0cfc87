"""The hardware/software line every RESULTS.md table carries, and the thread setting of CPU benchmarks."""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
from collections.abc import Iterator

import torch


def describe_environment(torch_threads: int | None = None) -> dict[str, str]:
    """CPU/GPU, thread count, torch version and today's date.

    ``torch_threads``: the threads the benchmark ran with, when it set its own (``one_torch_thread``);
    by default the process's current setting.
    """
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU only"
    cpu = platform.processor() or platform.machine()
    threads = torch_threads if torch_threads is not None else torch.get_num_threads()
    return {
        "hardware": f"{cpu}, {os.cpu_count()} logical cores, torch threads {threads}; {device}",
        "software": f"python {platform.python_version()}, torch {torch.__version__}",
        "date": datetime.date.today().isoformat(),
    }


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run the block with one torch thread, restoring the thread count afterwards.

    Why: on a shared CPU, several spinning OpenMP threads are several times slower than one for
    the many small steps of these benchmarks, and two benchmarks can then share the two cores.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
