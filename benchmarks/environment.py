"""The hardware/software line every RESULTS.md table carries, and the thread setting of CPU benchmarks."""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
from collections.abc import Iterator, Sequence

import torch


def describe_environment(torch_threads: int | str | None = None) -> dict[str, str]:
    """CPU/GPU, thread count, torch version and today's date.

    ``torch_threads``: the threads the benchmark ran with, when it set its own (``benchmark_threads``),
    or a description when its runs differ; by default the process's current setting.
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


_BENCHMARK_THREADS = 1
"""Torch threads of the benchmarks that set their own; ``python -m benchmarks run --threads N`` changes it."""


def set_benchmark_threads(threads: int) -> None:
    """Let ``benchmark_threads`` give ``threads`` torch threads (one run with the machine to itself)."""
    global _BENCHMARK_THREADS
    if threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}")
    _BENCHMARK_THREADS = threads


@contextlib.contextmanager
def benchmark_threads() -> Iterator[int]:
    """Run the block with the benchmarks' torch thread count (1 unless ``--threads``), restoring it afterwards.

    Why one by default: on a shared CPU, several spinning OpenMP threads are several times slower than
    one for the many small steps of these benchmarks, and two benchmarks can then share the two cores.
    A single long run that has the machine to itself is faster with ``--threads 2`` (a chapter 6 pretext
    step: 0.32 s on one thread, 0.19 s on two); each run records the count it trained with.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(_BENCHMARK_THREADS)
    try:
        yield _BENCHMARK_THREADS
    finally:
        torch.set_num_threads(threads)
