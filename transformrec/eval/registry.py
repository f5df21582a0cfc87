"""Registry of evaluation protocols (``build_evaluation("linear_probe")``).

Each registered evaluation is a callable ``(backbone, train_set, test_set, **options) -> dict``
returning JSON-serialisable results, so the CLI can run any of them from a config.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transformrec.registry import Registry

EVALUATIONS: Registry[Callable[..., dict]] = Registry("evaluation")
register_evaluation = EVALUATIONS.register


def get_evaluation(name: str) -> Callable[..., dict[str, Any]]:
    """Return the evaluation function registered as ``name``."""
    return EVALUATIONS.get(name)


def list_evaluations() -> list[str]:
    """Names of all registered evaluations."""
    return EVALUATIONS.names()
