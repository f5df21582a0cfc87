"""How long the command line takes to answer, beside ``python -c "import torch"`` (one run each, interleaved).

Why: a user's first contact is ``transformrec --help``, ``list`` and the one-line error of a bad
config. None of them imports torch: the CLI and the packages import lazily, and a config is checked
against the component index (``transformrec/component_index.py``), not the registries. Targets:
``--help`` ≤ 1.5 s and a config error ≤ 2 s on an idle machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAME = "cli_startup"
TARGETS = {"transformrec --help": 1.5, "transformrec pretrain <config with an unknown key>": 2.0}


def _commands(bad_config: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "transformrec.cli.main"]
    return {
        'python -c "import torch"': [sys.executable, "-c", "import torch"],
        "transformrec --help": [*cli, "--help"],
        "transformrec list": [*cli, "list"],
        "transformrec pretrain <config with an unknown key>": [*cli, "pretrain", str(bad_config)],
    }


def run(suite: str = "quick") -> dict:
    """Median wall time of each command over ``repeats`` rounds, the commands interleaved in each round."""
    repeats = {"smoke": 1, "quick": 3, "full": 7}[suite]
    with tempfile.TemporaryDirectory() as folder:
        bad = Path(folder) / "bad.yaml"
        bad.write_text("train:\n  epoch: 5\n")  # one line: train.epoch is not a field
        commands = _commands(bad)
        times: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(repeats):
            for label, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, capture_output=True, cwd=folder, check=False)
                times[label].append(time.perf_counter() - start)
    rows = [{"command": label, "seconds": statistics.median(values)} for label, values in times.items()]
    return {"repeats": repeats, "rows": rows, "targets": TARGETS}


def to_markdown(result: dict) -> str:
    torch_seconds = result["rows"][0]["seconds"]
    lines = [
        f"Median wall time of {result['repeats']} rounds, the commands interleaved in each round, on the "
        "machine of the line above (not idle while other benchmarks ran); each command is a fresh process.",
        "",
        "| command | seconds | ÷ import torch | target (idle machine) |",
        "|---|---|---|---|",
    ]
    for row in result["rows"]:
        target = result["targets"].get(row["command"])
        verdict = "" if target is None else f"≤ {target} s: {'met' if row['seconds'] <= target else 'missed'}"
        ratio = row["seconds"] / torch_seconds
        lines.append(f"| `{row['command']}` | {row['seconds']:.2f} | {ratio:.2f} | {verdict} |")
    return "\n".join(lines)
