"""Reading YAML configs (PyYAML's safe loader, without aliases) with ``--set key.path=value`` overrides.

Validation errors are rewritten as one line per problem naming the file and the dotted field,
e.g. ``configs/x.yaml: train.lr: Input should be greater than 0``. YAML aliases (``*name``) are
refused: nested aliases expand exponentially (a 1 kB file can stand for 10⁹ list items), and a
config never needs them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from transformrec.config.gan_schema import GANConfig
from transformrec.config.schema import ExperimentConfig, RunConfig
from transformrec.errors import ConfigError, validation_problems

__all__ = ["ConfigError", "RUN_KINDS", "apply_override", "dump_config", "load_config", "read_config_tree"]

RUN_KINDS: dict[str, type[RunConfig]] = {"pretext": ExperimentConfig, "gan": GANConfig}
"""The run kinds of the schema, by the value of a config's top-level ``kind``."""
COMMANDS = {"pretext": "pretrain, eval, demo, show or audit", "gan": "gan"}


class _NoAliasSafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader (plain data only, no Python objects) that refuses aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            mark = self.peek_event().start_mark
            where = f"line {mark.line + 1}"
            raise yaml.YAMLError(f"{where}: aliases (*name) are not accepted in a config; write the value out")
        return super().compose_node(parent, index)


# YAML 1.2's booleans only: PyYAML (YAML 1.1) also reads yes / no / on / off (and y / n in keys) as
# booleans, so `amp: yes` or a typo like `hflip: on` silently became a switch; here they stay strings,
# which a boolean field then refuses in one line (transformrec.strict_numbers).
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NoAliasSafeLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_NoAliasSafeLoader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def parse_yaml(text: str) -> Any:
    """``text`` as plain YAML data: the safe loader, aliases refused (see the module docstring)."""
    return yaml.load(text, Loader=_NoAliasSafeLoader)  # noqa: S506 - a SafeLoader subclass


def apply_override(tree: dict[str, Any], assignment: str) -> None:
    """Apply ``a.b.c=value`` to a nested dict; the value is parsed as YAML (``3``, ``true``, ``[1, 2]``)."""
    if "=" not in assignment:
        raise ConfigError(f"override {assignment!r} must look like key.path=value")
    key, raw = assignment.split("=", 1)
    parts = key.strip().split(".")
    node = tree
    for depth, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            index = _list_index(node, part, ".".join(parts[:depth]) or key, assignment)
            if isinstance(node[index], str):  # a component given by name: transforms.2.order=3 sets warp's order
                node[index] = {"name": node[index]}
            node = node[index]
            if not isinstance(node, dict | list):
                where = ".".join(parts[: depth + 1])
                raise ConfigError(f"--set {assignment}: {where} is {node!r}, not a mapping or a list to set a key in")
            continue
        child = node.get(part)
        if not isinstance(child, dict | list):
            child = {}
            node[part] = child
        node = child
    try:
        value = parse_yaml(raw)
    except yaml.YAMLError as error:
        raise ConfigError(f"--set {assignment}: the value is not valid YAML ({' '.join(str(error).split())})") from None
    if isinstance(node, list):
        node[_list_index(node, parts[-1], ".".join(parts[:-1]), assignment)] = value
    else:
        node[parts[-1]] = value


def _list_index(node: list, part: str, where: str, assignment: str) -> int:
    """``part`` as an index into the list at ``where``; past the end (or not a number) names both."""
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(f"--set {assignment}: {where} is a list of {len(node)} items; {part} is not an index of it")
    return int(part)


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
        tree = parse_yaml(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if tree is None:  # an empty file would silently be an all-defaults run in ./runs/experiment
        raise ConfigError(f"{path}: the config file is empty; it needs at least output_dir and data")
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, got {type(tree).__name__}")
    return tree


def load_config(path: str | Path | None, overrides: Sequence[str] = (), kind: str = "pretext") -> Any:
    """Read and validate a config of run kind ``kind``; ``path=None`` starts from the defaults.

    A file may state its ``kind``; one that states another kind than the command expects is an
    error naming the command to use. Returns an :class:`ExperimentConfig` (``pretext``) or a
    :class:`GANConfig` (``gan``).
    """
    if kind not in RUN_KINDS:
        raise ValueError(f"unknown run kind {kind!r}; known: {', '.join(RUN_KINDS)}")
    source = str(path) if path is not None else "defaults"
    tree = read_config_tree(path)
    stated = tree.get("kind", kind)
    if stated != kind:
        known = ", ".join(RUN_KINDS)
        if stated not in RUN_KINDS:
            raise ConfigError(f"{source}: kind: {stated!r} is not a run kind; known: {known}")
        raise ConfigError(f"{source}: kind: this is a {stated} config; run it with `transformrec {COMMANDS[stated]}`")
    schema = RUN_KINDS[kind]
    config = _validate(schema, tree, source)
    if not overrides:
        return config
    # Overrides apply to the fully resolved tree, so `--set backbone.width=0.5` works even when
    # the file leaves the backbone at its default.
    resolved = config.model_dump(mode="json")
    for assignment in overrides:
        apply_override(resolved, assignment)
    return _validate(schema, resolved, f"{source} with --set {' '.join(overrides)}")


def _validate(schema: type[RunConfig], tree: dict[str, Any], source: str) -> Any:
    try:
        return schema.model_validate(tree)
    except ValidationError as error:
        lines = [f"{source}: {problem}" for problem in validation_problems(error)]
        raise ConfigError("invalid config:\n  " + "\n  ".join(lines)) from None


def dump_config(config: RunConfig, path: str | Path) -> None:
    """Write the fully resolved config next to a run's outputs, for reproducibility."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
