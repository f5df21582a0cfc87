"""The project's own error types, in a module that imports nothing of the project.

Why a module of its own: configs, data sets, the distribution-filter schema and the CLI all raise
or catch these, and importing them must never pull in (and cycle through) the registries.
"""

from __future__ import annotations

from pydantic import ValidationError


class ConfigError(ValueError):
    """A config file that cannot be read or does not validate; the message says where and why."""


def validation_problems(error: ValidationError) -> list[str]:
    """One ``dotted.field: message`` line per problem pydantic found."""
    return [f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in error.errors()]
