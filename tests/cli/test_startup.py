"""``transformrec --help`` and ``list`` answer without importing torch, and ``list`` is current."""

import subprocess
import sys

from transformrec.cli.registry_listing import BUILT_IN, live_registries

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


def test_the_listed_names_are_the_registered_ones():
    """After adding a component: ``python -m transformrec.cli.registry_listing`` rewrites the list."""
    assert live_registries(built_in_only=True) == BUILT_IN


def test_importing_the_package_imports_no_torch_until_a_name_is_used():
    code = (
        "import sys, transformrec as tr; assert 'torch' not in sys.modules; "
        "tr.Rotation; assert 'torch' in sys.modules; assert 'warp' in tr.list_transforms()"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
