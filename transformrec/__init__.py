"""transformrec: self-supervised visual representation learning by recognizing data transformations.

The names below are imported on first use (PEP 562), so that ``import transformrec`` and the
command line's ``--help`` and ``list`` do not pay for importing torch. Using any of them (or
importing ``transformrec.transforms``, ``.backbones``, ``.data`` or ``.eval``) registers every
built-in component of that kind.
"""

from __future__ import annotations

import importlib
from typing import Any

from transformrec.lazy_exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "DamageRepair": "transformrec.transforms",
    "Identity": "transformrec.transforms",
    "LearnedTransform": "transformrec.transforms",
    "LimitedContextInpainting": "transformrec.transforms",
    "Rotation": "transformrec.transforms",
    "Transform": "transformrec.transforms",
    "TransformSet": "transformrec.transforms",
    "Warp": "transformrec.transforms",
    "build_transform": "transformrec.transforms",
    "list_transforms": "transformrec.transforms",
    "register_transform": "transformrec.transforms",
    "build_backbone": "transformrec.backbones",
    "list_backbones": "transformrec.backbones",
    "build_dataset": "transformrec.data",
    "list_datasets": "transformrec.data",
    "get_evaluation": "transformrec.eval",
    "list_evaluations": "transformrec.eval",
    "TrainOptions": "transformrec.training",
    "Trainer": "transformrec.training",
}
_SUBPACKAGES = ("backbones", "data", "eval", "transforms", "training", "config", "adversarial", "bilevel")

__all__ = sorted(_EXPORTS)


def register_all() -> None:
    """Import every component package, so that every built-in component is registered."""
    for package in ("backbones", "data", "eval", "transforms"):
        importlib.import_module(f"transformrec.{package}")


_get_export, _dir = lazy_exports(__name__, _EXPORTS, globals(), before=register_all)


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"transformrec.{name}")
    return _get_export(name)  # a data set built by name may use a transform's or backbone's registry


def __dir__() -> list[str]:
    return sorted({*_dir(), *_SUBPACKAGES})
