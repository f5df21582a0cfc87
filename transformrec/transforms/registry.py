"""Registry of transforms (``@register_transform("rotation")``, ``build_transform("warp", order=2)``)."""

from __future__ import annotations

from typing import Any

from transformrec.registry import Registry
from transformrec.transforms.base import Transform

TRANSFORMS: Registry[Transform] = Registry("transform")


def register_transform(name: str, run_inputs: tuple[str, ...] = ()):
    """Class decorator: register under ``name`` and set the class's ``name`` attribute.

    ``run_inputs``: parameters the config builder fills from the run (``channels``, ``seed``).
    """
    inner = TRANSFORMS.register(name, run_inputs)

    def decorator(cls):
        cls.name = name
        return inner(cls)

    return decorator


def build_transform(name: str, **kwargs: Any) -> Transform:
    """Build the transform registered as ``name`` with ``kwargs``."""
    return TRANSFORMS.build(name, **kwargs)


def list_transforms() -> list[str]:
    """Names of all registered transforms."""
    return TRANSFORMS.names()
