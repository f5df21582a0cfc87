"""Pretext runs of a fixed number of steps whose learning-rate schedule ends where the run does.

Why: ``train.max_steps`` stops a run early but the schedule still spans ``train.epochs``, so a
table row of "1000 steps" would otherwise train at an almost undecayed learning rate. The epochs
are chosen so that ``epochs × steps per epoch`` just covers the steps.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from transformrec.config.build import build_data
from transformrec.config.loading import load_config
from transformrec.config.schema import ExperimentConfig


def fixed_step_config(path: Path, overrides: list[str], steps: int) -> ExperimentConfig:
    """``path`` with ``overrides``, ``train.max_steps=steps`` and the epochs that make the schedule span them."""
    config = load_config(path, overrides)
    per_step = config.train.batch_size * (config.train.bilevel.k if config.train.bilevel is not None else 1)
    steps_per_epoch = max(1, len(build_data(config.data)) // per_step)
    epochs = math.ceil(steps / steps_per_epoch)
    return load_config(path, [*overrides, f"train.max_steps={steps}", f"train.epochs={epochs}"])


def override(path: str, value: Any) -> str:
    """``path=value`` as ``--set`` takes it, the value written as JSON (which YAML reads unchanged).

    Why: benchmark rows declare their transforms and settings as Python data; this is the one place
    they become config overrides, so no row is a hand-written YAML string.
    """
    return f"{path}={json.dumps(value)}"
