"""The documentation site: its generated references cover the code, and the README's results table is current."""

import importlib.util
import re
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from benchmarks.__main__ import README, render_section
from benchmarks.headline import END, HEADLINES, START, Headline, headline_table, read
from transformrec.cli.main import build_parser
from transformrec.config import ExperimentConfig, GANConfig

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
hooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hooks)


def _models(model: type[BaseModel], seen: set) -> list[type[BaseModel]]:
    if model in seen:
        return []
    seen.add(model)
    found = [model]
    for field in model.model_fields.values():
        for outer in (field.annotation, *typing.get_args(field.annotation)):
            for inner in (outer, *typing.get_args(outer)):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    found += _models(inner, seen)
    return found


@pytest.mark.parametrize(("kind", "model"), [("pretext", ExperimentConfig), ("gan", GANConfig)])
def test_config_reference_lists_every_field_with_its_meaning(kind, model):
    reference = hooks.config_reference(kind)
    for section in _models(model, set()):
        if section.__name__ == "Component":
            continue
        for name, field in section.model_fields.items():
            assert field.description, f"{section.__name__}.{name} has no description for the reference"
            assert f"| `{name}` |" in reference, f"{section.__name__}.{name}"


def test_cli_reference_has_every_command_and_option():
    reference = hooks.cli_reference()
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in commands.items():
        assert f"## `transformrec {name}`" in reference
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}`" in reference, (name, option)


def test_every_page_is_in_the_navigation_and_exists():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text().replace("!!python", "#"))

    def pages(nav):
        for entry in nav:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            yield from pages(value) if isinstance(value, list) else [value]

    listed = set(pages(config["nav"]))
    on_disk = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    assert listed == on_disk


def test_generation_markers_name_known_parts():
    for page in (ROOT / "docs").rglob("*.md"):
        for what, argument in re.findall(r"^<!-- generate: (\w+)(?: ([\w.-]+))? -->$", page.read_text(), re.M):
            assert what in {"cli", "config", "results", "registries"}, page
            if what == "results":
                assert render_section(argument, plot=False) is not None, f"{page}: {argument} has no results"


def test_readme_results_table_is_the_rendered_one():
    text = README.read_text()
    table = text[text.index(START) + len(START) : text.index(END)].strip()
    assert table == headline_table(render_section), "run `python -m benchmarks render` to refresh the README's table"
    assert len(README.read_text().splitlines()) <= 300


def test_headline_reads_the_claim_row_of_its_subsection():
    section = "\n".join(
        [
            "### alpha",
            "| claim | conv5 (points) |",
            "|---|---|",
            "| A > B | +1.0 ± 0.2 (holds) |",
            "",
            "### beta",
            "| noise | claim | difference |",
            "|---|---|---|",
            "| 0% | A > B | -3.0 ± 0.1 (reversed) |",
            "| 80% | A > B | +2.0 ± 3.0 (within noise) |",
        ]
    )
    assert read(Headline("1", "ch1", "m", "d", "x", "A > B", subsection="alpha"), section) == (
        "conv5 (points)",
        "+1.0 ± 0.2 (holds)",
    )
    assert read(Headline("1", "ch1", "m", "d", "x", "A > B", subsection="beta", qualifier="80%"), section)[1] == (
        "+2.0 ± 3.0 (within noise)"
    )
    assert read(Headline("1", "ch1", "m", "d", "x", "C > D"), section) == ("–", "not run yet")
    assert read(HEADLINES[0], None) == ("–", "not run yet")
