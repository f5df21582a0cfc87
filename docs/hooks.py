"""MkDocs hooks: the pages' generated parts, made from the code and the stored results.

A page asks for a generated part with a marker on a line of its own:

- ``<!-- generate: cli -->``: the command-line reference, from the argparse parsers;
- ``<!-- generate: config pretext -->`` / ``<!-- generate: config gan -->``: the configuration
  reference, from the pydantic models (field, type, default, meaning);
- ``<!-- generate: results NAME -->``: a benchmark's section, rendered from its stored JSON by the
  code that writes ``benchmarks/RESULTS.md`` (no number on the site is typed by hand);
- ``<!-- generate: registries -->``: every registered transform, backbone, data set and evaluation.

Pictures the benchmarks drew (``benchmarks/results/*.png``) are added to the site as ``results/``.
"""

from __future__ import annotations

import argparse
import re
import sys
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[1]

MARKER = re.compile(r"^<!-- generate: (\w+)(?: ([\w.-]+))? -->$", re.M)


# ---------------------------------------------------------------------------------------- CLI
def cli_reference() -> str:
    """One section per command: what it does, its usage line and a table of its arguments."""
    from transformrec.cli.main import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    lines = [_arguments_table(parser)]
    for name, sub in commands.choices.items():
        usage = " ".join(sub.format_usage().split())
        lines += [f"## `transformrec {name}`", "", helps.get(name) or "", "", "```", usage, "```", ""]
        lines += [_arguments_table(sub), ""]
    return "\n".join(lines)


def _arguments_table(parser: argparse.ArgumentParser) -> str:
    rows = ["| argument | default | what it does |", "|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        name = ", ".join(f"`{s}`" for s in action.option_strings) or f"`{action.dest.upper()}`"
        if action.option_strings and action.metavar:
            name += f" `{action.metavar}`"
        default = "" if action.default in (None, False, [], argparse.SUPPRESS) else f"`{action.default}`"
        if not action.option_strings:
            default = "required"
        rows.append(f"| {name} | {default} | {_cell(action.help or '')} |")
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------- config
def config_reference(kind: str) -> str:
    """Every field of a run kind's config, section by section (``train``, ``train.bilevel``, ...)."""
    from transformrec.config import ExperimentConfig, GANConfig

    model = {"pretext": ExperimentConfig, "gan": GANConfig}[kind]
    sections: list[str] = []
    _model_sections(model, "", sections, seen=set())
    return "\n".join(sections)


def _model_sections(model: type[BaseModel], prefix: str, out: list[str], seen: set[str]) -> None:
    title = f"`{prefix}`" if prefix else "top level"
    doc = (model.__doc__ or "").strip().split("\n\n")[0]
    out += [f"### {title} ({model.__name__})", "", _cell(doc), ""]
    out += ["| field | type | default | meaning |", "|---|---|---|---|"]
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        out.append(
            f"| `{name}` | {_cell(_type_name(field.annotation))} | {_default(field)} | {_cell(field.description)} |"
        )
        for inner in _models_in(field.annotation):
            if inner.__name__ != "Component":
                nested.append((f"{prefix}.{name}" if prefix else name, inner))
    out.append("")
    for path, inner in nested:
        if path not in seen:
            seen.add(path)
            _model_sections(inner, path, out, seen)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    found = []
    for candidate in (annotation, *typing.get_args(annotation)):
        for inner in (candidate, *typing.get_args(candidate)):
            if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in found:
                found.append(inner)
    return found


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if not typing.get_args(annotation) else None
    text = text or str(annotation)
    for module in ("typing.", "transformrec.config.schema.", "transformrec.config.gan_schema."):
        text = text.replace(module, "")
    text = re.sub(r"transformrec\.[\w.]+\.(\w+)", r"\1", text)
    return f"`{text}`"


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        dumped = value.model_dump()
        if set(dumped) == {"name", "params"}:  # a component: its name and parameters, as YAML writes it
            return f"`{dumped['name']}` {dumped['params'] or ''}".strip()
        return "see below"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return _cell(", ".join(v.model_dump()["name"] for v in value))
    return _cell(f"`{value}`") if value is not None else "`null`"


def _cell(text: str | None) -> str:
    """One table cell: one line, reST roles as plain code; outside code spans ``|`` is escaped and a
    ``<placeholder>`` shown as text (inside them the tables extension leaves both alone)."""
    text = re.sub(r":\w+:`~?(?:[\w.]+\.)?([\w]+)`", r"`\1`", " ".join((text or "").split()))
    parts = text.replace("``", "`").split("`")
    return "`".join(
        p if i % 2 else p.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;") for i, p in enumerate(parts)
    )


# ---------------------------------------------------------------------------------------- registries
def registries() -> str:
    """Registered components by kind, with the first line of each factory's docstring."""
    import transformrec  # noqa: F401  (registration side effects)
    from transformrec.backbones.registry import BACKBONES
    from transformrec.data.registry import DATASETS
    from transformrec.eval.registry import EVALUATIONS
    from transformrec.transforms.registry import TRANSFORMS

    lines = []
    for title, registry in (
        ("Transforms", TRANSFORMS),
        ("Backbones", BACKBONES),
        ("Data sets", DATASETS),
        ("Evaluations", EVALUATIONS),
    ):
        lines += [f"### {title}", "", "| name | what it is |", "|---|---|"]
        for name in registry.names():
            doc = (registry.get(name).__doc__ or "").strip().split("\n\n")[0]
            lines.append(f"| `{name}` | {_cell(doc)} |")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------- results
def results_section(name: str, page_path: str) -> str:
    """A benchmark's section as RESULTS.md renders it, its pictures linked from this page."""
    if str(ROOT) not in sys.path:  # the benchmarks package lives beside the library, not inside it
        sys.path.insert(0, str(ROOT))
    from benchmarks.__main__ import render_section

    section = render_section(name, plot=False)
    if section is None:
        command = f"python -m benchmarks run --suite full --only {name}"
        return f"*The `{name}` benchmark has no stored results yet: `{command}`.*"
    up = "../" * page_path.count("/")
    return section.replace("](results/", f"]({up}results/")


# ---------------------------------------------------------------------------------------- MkDocs
def expand(markdown: str, page_path: str) -> str:
    """Replace every generation marker of a page by what it asks for."""

    def replace(match: re.Match) -> str:
        what, argument = match.group(1), match.group(2)
        if what == "cli":
            return cli_reference()
        if what == "config":
            return config_reference(argument or "pretext")
        if what == "results":
            return results_section(argument, page_path)
        if what == "registries":
            return registries()
        raise ValueError(f"{page_path}: unknown generation marker {what!r}")

    return MARKER.sub(replace, markdown)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs hook signature
    return expand(markdown, page.file.src_uri)


def on_files(files, config):  # noqa: ARG001 - MkDocs hook signature
    from mkdocs.structure.files import File

    for picture in sorted((ROOT / "benchmarks" / "results").glob("*.png")):
        files.append(File.generated(config, f"results/{picture.name}", abs_src_path=str(picture)))
    return files
