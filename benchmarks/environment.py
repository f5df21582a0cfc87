"""The hardware/software line every RESULTS.md table carries."""

from __future__ import annotations

import datetime
import os
import platform

import torch


def describe_environment() -> dict[str, str]:
    """CPU/GPU, thread count, torch version and today's date."""
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU only"
    cpu = platform.processor() or platform.machine()
    return {
        "hardware": f"{cpu}, {os.cpu_count()} logical cores, torch threads {torch.get_num_threads()}; {device}",
        "software": f"python {platform.python_version()}, torch {torch.__version__}",
        "date": datetime.date.today().isoformat(),
    }
