"""Reading YAML configs (``yaml.safe_load``) with ``--set key.path=value`` overrides.

Validation errors are rewritten as one line per problem naming the file and the dotted field,
e.g. ``configs/x.yaml: train.lr: Input should be greater than 0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from transformrec.config.schema import ExperimentConfig


class ConfigError(ValueError):
    """A config file that cannot be read or does not validate; the message says where and why."""


def validation_problems(error: ValidationError) -> list[str]:
    """One ``dotted.field: message`` line per problem pydantic found."""
    return [f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in error.errors()]


def apply_override(tree: dict[str, Any], assignment: str) -> None:
    """Apply ``a.b.c=value`` to a nested dict; the value is parsed as YAML (``3``, ``true``, ``[1, 2]``)."""
    if "=" not in assignment:
        raise ConfigError(f"override {assignment!r} must look like key.path=value")
    key, raw = assignment.split("=", 1)
    parts = key.strip().split(".")
    node = tree
    for part in parts[:-1]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        child = node.get(part) if isinstance(node, dict) else None
        if not isinstance(child, dict | list):
            child = {}
            node[part] = child
        node = child
    value = yaml.safe_load(raw)
    if isinstance(node, list) and parts[-1].isdigit():
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def read_config_tree(path: str | Path | None) -> dict[str, Any]:
    """The YAML mapping of a config file (``yaml.safe_load``); ``None`` gives ``{}`` (all defaults).

    Shared by every config kind (experiments, GANs) so missing files, broken YAML and a
    non-mapping top level always give the same errors naming the file.
    """
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        tree = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, got {type(tree).__name__}")
    return tree


def load_config(path: str | Path | None, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Read and validate a config; ``path=None`` starts from the defaults."""
    source = str(path) if path is not None else "defaults"
    tree = read_config_tree(path)
    config = _validate(tree, source)
    if not overrides:
        return config
    # Overrides apply to the fully resolved tree, so `--set backbone.width=0.5` works even when
    # the file leaves the backbone at its default.
    resolved = config.model_dump(mode="json")
    for assignment in overrides:
        apply_override(resolved, assignment)
    return _validate(resolved, f"{source} with --set {' '.join(overrides)}")


def _validate(tree: dict[str, Any], source: str) -> ExperimentConfig:
    try:
        return ExperimentConfig.model_validate(tree)
    except ValidationError as error:
        lines = [f"{source}: {problem}" for problem in validation_problems(error)]
        raise ConfigError("invalid config:\n  " + "\n  ".join(lines)) from None


def dump_config(config: ExperimentConfig, path: str | Path) -> None:
    """Write the fully resolved config next to a run's outputs, for reproducibility."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
