"""Package attributes imported on first use (PEP 562), so that importing a package costs nothing.

Why: ``transformrec``, ``transformrec.training`` and ``transformrec.adversarial`` re-export names
from modules that import torch. The command line validates configs and answers ``--help`` and
``list`` from modules of these packages that need no torch; importing the package must not
pull in everything its ``__init__`` names. Type checkers and ``dir()`` still see every name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, exports: dict[str, str], namespace: dict[str, Any], before: Callable[[], None] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps a name to the module defining it;
    ``before`` runs before the first name is imported (e.g. registering every component)."""

    def getattr_(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if before is not None:
            before()
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later lookups find it without this function
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *exports})

    return getattr_, dir_
