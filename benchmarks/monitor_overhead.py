"""What the online monitor costs a pre-training run at the demo's settings (target: <= 5 %).

The demo (``transformrec demo configs/quickstart.yaml``) trains 500 steps and, with no monitor in
its config, monitors the evaluation's test data every 100 steps (kNN and the ridge probe on the
backbone's last tap, 1000 images). One monitored run is timed: the seconds spent inside the
monitor's measurements against the seconds of the rest of the run, both in the same process and
the same run, so the ratio is measured side by side by construction. The monitor leaves training
bit-for-bit unchanged (tests/training/test_trainer.py), so the rest of the run is what an
unmonitored run costs.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.environment import benchmark_threads
from benchmarks.pretext_runs import fixed_step_config
from transformrec.config.build import build_trainer
from transformrec.config.schema import MonitorConfig

NAME = "monitor_overhead"
REPO = Path(__file__).resolve().parents[1]
TARGET = 0.05
SUITES = {
    "smoke": {"steps": 4, "every": 2, "overrides": ["data.num_samples=256"], "monitor_images": 100, "k": 5},
    "quick": {"steps": 100, "every": 20, "overrides": [], "monitor_images": 1000, "k": 20},
    "full": {"steps": 500, "every": 100, "overrides": [], "monitor_images": 1000, "k": 20},
}


def run(suite: str = "quick") -> dict[str, Any]:
    """One monitored run of the demo's config; the monitor's share of its wall time."""
    cfg = SUITES[suite]
    with benchmark_threads() as threads, tempfile.TemporaryDirectory() as out:
        overrides = [*cfg["overrides"], f"output_dir={out}", "device=cpu", "progress=false"]
        config = fixed_step_config(REPO / "configs" / "quickstart.yaml", overrides, cfg["steps"])
        monitor = MonitorConfig(
            data=config.evaluation.test_data, every=cfg["every"], k=cfg["k"], num_images=cfg["monitor_images"]
        )
        config = config.model_copy(update={"monitor": monitor})
        trainer = build_trainer(config, progress=False)
        timed = trainer.monitor = _Timed(trainer.monitor)
        started = time.perf_counter()
        summary = trainer.fit()
        wall = time.perf_counter() - started
    monitor_seconds = sum(timed.seconds)
    return {
        "suite": suite,
        "steps": summary["steps"],
        "every": cfg["every"],
        "monitor_images": cfg["monitor_images"],
        "measurements": len(timed.seconds),
        "monitor_seconds": monitor_seconds,
        "train_seconds": wall - monitor_seconds,
        "overhead": monitor_seconds / (wall - monitor_seconds),
        "target": TARGET,
        "torch_threads": threads,
        "curve": summary["monitor"],
    }


class _Timed:
    """The monitor with the seconds of each measurement recorded (``due`` and the rest pass through)."""

    def __init__(self, monitor: Any) -> None:
        self._monitor, self.seconds = monitor, []

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, float]:
        started = time.perf_counter()
        try:
            return self._monitor(*args, **kwargs)
        finally:
            self.seconds.append(time.perf_counter() - started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._monitor, name)


def to_markdown(result: dict[str, Any]) -> str:
    verdict = "meets" if result["overhead"] <= result["target"] else "misses"
    last = result["curve"][-1] if result["curve"] else {}
    values = {key.removeprefix("monitor/"): value for key, value in last.items() if key != "step"}
    shown = ", ".join(f"{key} {100 * value:.1f} %" for key, value in values.items())
    return "\n".join(
        [
            f"`configs/quickstart.yaml`, {result['steps']} steps, monitored every {result['every']} steps on "
            f"{result['monitor_images']} test images (kNN and ridge probe on the last tap), torch threads: "
            f"{result['torch_threads']}. One run: the monitor's seconds against the rest of the run's.",
            "",
            "| measurements | monitor s | training s | overhead | target | last measurement |",
            "|---|---|---|---|---|---|",
            f"| {result['measurements']} | {result['monitor_seconds']:.1f} | {result['train_seconds']:.1f} | "
            f"{100 * result['overhead']:.1f} % | ≤ {100 * result['target']:.0f} % ({verdict}) | {shown} |",
        ]
    )
