"""Numbers and switches in configs mean what they say: no ``'yes'`` → True, no ``2.0`` → 2.

Pydantic's lax mode turns ``'yes'``, ``'on'`` and ``1`` into ``True``, ``'3'`` and ``2.0`` into 3
and 2, and ``true`` into the integer 1, so a typo or a wrong type silently becomes a setting. Its
strict mode would also refuse what YAML legitimately produces (``lr: 3e-4`` is the *string*
``'3e-4'`` to PyYAML, a tuple is written as a list), so the check here is narrower: a field declared
``bool`` takes only ``true`` / ``false``, a field declared ``int`` only an integer, and neither
takes the other; floats still accept integers and numeric strings.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, model_validator

__all__ = ["StrictNumbers", "number_problem"]


def _leaves(annotation: Any) -> set[Any]:
    """The types a (possibly union) annotation admits: ``int | None`` → {int, NoneType}."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return set().union(*(_leaves(arg) for arg in typing.get_args(annotation)))
    return {annotation}


def number_problem(annotation: Any, value: Any) -> str | None:
    """Why ``value`` may not fill a field declared ``annotation`` (None when it may). Only fields that
    admit nothing but numbers, switches and ``None`` are checked; others are pydantic's business."""
    kinds = _leaves(annotation) - {type(None)}
    if value is None or not kinds or not kinds <= {bool, int, float}:
        return None
    if isinstance(value, bool):
        return None if bool in kinds else f"must be a number, got {value!r}"
    if kinds == {bool}:
        return f"must be true or false, got {value!r}"
    if kinds == {int} and not isinstance(value, int):
        return f"must be an integer, got {value!r}"
    return None


class StrictNumbers(BaseModel):
    """Base of the config models: refuses the coercions :func:`number_problem` names, per field."""

    @model_validator(mode="before")
    @classmethod
    def _no_silent_coercion(cls, values: Any) -> Any:
        if isinstance(values, dict):
            for name, value in values.items():
                field = cls.model_fields.get(name)
                problem = number_problem(field.annotation, value) if field is not None else None
                if problem is not None:
                    raise ValueError(f"{name}: {problem}")
        return values
