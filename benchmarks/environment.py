"""The hardware/software line every RESULTS.md table carries, and the thread setting of CPU benchmarks."""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
from collections.abc import Iterator, Sequence

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


def threads_sentence(run_threads: Sequence[int | None]) -> str:
    """``Torch threads per run: 1; not recorded by 2 of 9 runs (...).`` from each run's recorded count.

    Why per run: a table is filled by several processes over several sessions, so the thread count of
    the process that renders it says nothing about the runs; runs stored before they recorded it
    (None) are counted apart.
    """
    counts = sorted({threads for threads in run_threads if threads is not None})
    unrecorded = sum(threads is None for threads in run_threads)
    sentence = f"Torch threads per run: {', '.join(map(str, counts))}" if counts else "Torch threads per run"
    if unrecorded:
        separator = ";" if counts else ":"
        sentence += f"{separator} not recorded by {unrecorded} of {len(run_threads)} runs (stored before they kept it)"
    return sentence + "."


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
