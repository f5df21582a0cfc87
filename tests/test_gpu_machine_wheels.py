"""The wheels pinned for the GPU machine cover what it lacks and match pyproject.toml's ranges.

Why: that machine reaches no package index, so a dependency missing from the pin list (or pinned
outside the range pyproject.toml asks for) would end its 15 minutes in an import error.
"""

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")
from packaging.requirements import Requirement  # noqa: E402
from packaging.utils import canonicalize_name  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# The lent machine's image (issue "Ready for the GPU ...", and the device tool's package list).
PRESENT_ON_GPU_MACHINE = {
    "torch", "torchvision", "numpy", "scipy", "matplotlib", "tensorboard", "tqdm", "pyyaml", "pillow",
    "einops", "opencv-python-headless",
}  # fmt: skip


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "benchmarks" / "gpu_machine" / "wheels.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version, f"not an exact pin: {line!r}"
            pins[canonicalize_name(name)] = version
    return pins


def _dependencies() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [Requirement(spec) for spec in project["dependencies"]]


def test_every_dependency_the_gpu_machine_lacks_is_pinned_inside_pyprojects_range():
    pins = _pins()
    lacking = [r for r in _dependencies() if canonicalize_name(r.name) not in PRESENT_ON_GPU_MACHINE]
    assert {canonicalize_name(r.name) for r in lacking} == {"av", "pydantic"}
    for requirement in lacking:
        version = pins.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not pinned"
        assert requirement.specifier.contains(version), f"{requirement.name}=={version} outside {requirement}"


def test_the_pinned_packages_own_requirements_are_pinned_too():
    """pydantic needs pydantic-core, annotated-types, typing-inspection and a recent typing-extensions."""
    pins = _pins()
    for needed in ("pydantic-core", "annotated-types", "typing-inspection", "typing-extensions"):
        assert needed in pins
