"""``transformrec --help`` and ``list`` answer without importing torch, and ``list`` is current."""

import subprocess
import sys
from pathlib import Path

from transformrec.cli.registry_listing import all_registries, live_registries
from transformrec.component_index import INDEX, live_index

ROOT = Path(__file__).resolve().parents[2]
NO_TORCH = "import sys; from transformrec.cli.main import main; {call}; assert 'torch' not in sys.modules, 'torch'"


def _run(call: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", NO_TORCH.format(call=call)], capture_output=True, text=True)


def test_help_imports_no_torch():
    result = _run("\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert result.returncode == 0, result.stderr


def test_list_imports_no_torch_and_prints_every_kind():
    result = _run("main(['list'])")
    assert result.returncode == 0, result.stderr
    for kind in ("transforms", "backbones", "datasets", "evaluations", "gan objectives"):
        assert f"{kind}: " in result.stdout


def test_the_index_is_the_live_registries():
    """After adding a component or a parameter: ``python -m transformrec.component_index`` rewrites it."""
    assert live_index() == INDEX
    assert all_registries() == live_registries(built_in_only=True)


def test_importing_the_package_imports_no_torch_until_a_name_is_used():
    code = (
        "import sys, transformrec as tr; assert 'torch' not in sys.modules; "
        "tr.Rotation; assert 'torch' in sys.modules; assert 'warp' in tr.list_transforms()"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_config_is_validated_without_torch(tmp_path):
    """Every shipped config loads, and a bad one is refused in one line, before torch is imported."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("transforms: [identity, rotaton]\n")
    code = (
        "import sys, glob\n"
        "from transformrec.config.loading import load_config\n"
        "from transformrec.errors import ConfigError\n"
        "for path in sorted(glob.glob('configs/**/*.yaml', recursive=True)):\n"
        "    kind = 'gan' if 'kind: gan' in open(path).read() else 'pretext'\n"
        "    load_config(path, kind=kind)\n"
        "try:\n"
        f"    load_config({str(bad)!r})\n"
        "except ConfigError as error:\n"
        "    print(error)\n"
        "assert 'torch' not in sys.modules, 'torch'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "unknown transform 'rotaton'; known: damage_repair, flip, identity" in result.stdout
