"""Layers point one way: no module of transformrec imports from a layer above its own.

Ground: functional, runtime, registry helpers, errors. Blocks: data, backbones, transforms,
adversarial, bilevel, eval, audit. Then training, then the builders (config, experiment, the
transform-grid picture built from a config), then
the CLI. A lower layer that needs something from a higher one is a sign that a piece sits on the
wrong floor (it was how learned transforms imported the trainer's distributed helpers).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "transformrec"
LAYERS = {
    "functional": 0,
    "runtime": 0,
    "errors": 0,
    "atomic_save": 0,
    "targets": 0,
    "registry": 0,
    "data": 1,
    "backbones": 1,
    "transforms": 1,
    "adversarial": 1,
    "bilevel": 1,
    "eval": 1,
    "audit": 1,
    "training": 2,
    "config": 3,
    "experiment": 3,
    "transform_grid": 3,
    "cli": 4,
}
# Known and to be removed: the GAN trainer still builds its data and reads its config type itself
# (issue "One direction of dependence": the trainers are to take built parts).
KNOWN_UPWARD = {
    ("adversarial/gan_trainer.py", "transformrec.config.build"),
    ("adversarial/gan_trainer.py", "transformrec.config.gan_schema"),
    ("adversarial/gan_trainer.py", "transformrec.config.loading"),
    ("adversarial/gan_trainer.py", "transformrec.config.schema"),
    ("adversarial/gan_trainer.py", "transformrec.training.engine"),
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("transformrec"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("transformrec"))
    return names


def _layer(top: str) -> int:
    assert top in LAYERS, f"{top} has no layer: add it to LAYERS in {Path(__file__).name}"
    return LAYERS[top]


def upward_imports() -> set[tuple[str, str]]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        top = relative.parts[0].removesuffix(".py")
        if top == "__init__":
            continue
        for name in _imports(path):
            parts = name.split(".")
            if len(parts) > 1 and _layer(parts[1]) > _layer(top):
                found.add((relative.as_posix(), name))
    return found


def test_no_module_imports_from_a_layer_above_its_own():
    new = upward_imports() - KNOWN_UPWARD
    assert not new, "upward imports: " + "; ".join(f"{module} imports {name}" for module, name in sorted(new))


def test_the_known_exceptions_still_exist():
    """An exception that is gone must leave the list, so the list cannot hide a new one later."""
    assert upward_imports() >= KNOWN_UPWARD


def test_the_checker_catches_an_upward_import(tmp_path, monkeypatch):
    fake = tmp_path / "transformrec"
    (fake / "functional").mkdir(parents=True)
    (fake / "functional" / "bad.py").write_text("from transformrec.training.trainer import Trainer\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert upward_imports() == {("functional/bad.py", "transformrec.training.trainer")}
