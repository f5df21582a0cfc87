"""Layers point one way: no module of transformrec imports from a layer above its own.

Ground: functional, runtime, registry helpers, errors. Blocks: data, backbones, transforms,
adversarial, bilevel, eval, audit. Then the options types (the validated config models and their
loader: what a trainer takes as its one options object), then training (the pretext and GAN
trainers, the engine), then the builders (``config.build``, ``config.gan_build``, experiment, the
transform-grid picture built from a config), then the CLI. A lower layer that needs something from
a higher one is a sign that a piece sits on the wrong floor (it was how learned transforms imported
the trainer's distributed helpers, and how the GAN trainer built its own data).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "transformrec"
LAYERS = {  # a module's layer is that of the longest dotted prefix listed here
    "functional": 0,
    "runtime": 0,
    "errors": 0,
    "atomic_save": 0,
    "targets": 0,
    "registry": 0,
    "strict_numbers": 0,
    "lazy_exports": 0,
    "component_index": 0,  # a generated index; it reads the registries only by name, when regenerated
    "training.options": 1,  # pydantic only: the config schema (2) and the Trainer (3) share it
    "data": 1,
    "backbones": 1,
    "transforms": 1,
    "adversarial": 1,
    "bilevel": 1,
    "eval": 1,
    "audit": 1,
    "config.schema": 2,
    "config.gan_schema": 2,
    "config.loading": 2,
    "training": 3,
    "config": 4,
    "experiment": 4,
    "transform_grid": 4,
    "cli": 5,
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("transformrec"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("transformrec"))
    return names


def _layer(dotted: str) -> int:
    """The layer of ``dotted`` (a module path below ``transformrec``, e.g. ``config.build``)."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in LAYERS:
            return LAYERS[".".join(parts[:end])]
    raise AssertionError(f"{dotted} has no layer: add it to LAYERS in {Path(__file__).name}")


def upward_imports() -> set[tuple[str, str]]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "__init__.py":
            continue
        own = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        for name in _imports(path):
            target = name.split(".", 1)[1] if "." in name else ""
            if target and _layer(target) > _layer(own):
                found.add((relative.as_posix(), name))
    return found


def test_no_module_imports_from_a_layer_above_its_own():
    found = upward_imports()
    assert not found, "upward imports: " + "; ".join(f"{module} imports {name}" for module, name in sorted(found))


def test_the_checker_catches_an_upward_import(tmp_path, monkeypatch):
    fake = tmp_path / "transformrec"
    (fake / "functional").mkdir(parents=True)
    (fake / "functional" / "bad.py").write_text("from transformrec.training.trainer import Trainer\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert upward_imports() == {("functional/bad.py", "transformrec.training.trainer")}


def test_the_options_types_sit_below_the_trainers_and_the_builders_above(tmp_path, monkeypatch):
    fake = tmp_path / "transformrec"
    (fake / "config").mkdir(parents=True)
    (fake / "config" / "schema.py").write_text("from transformrec.config.build import build_trainer\n")
    (fake / "config" / "build.py").write_text("from transformrec.training.trainer import Trainer\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert upward_imports() == {("config/schema.py", "transformrec.config.build")}
