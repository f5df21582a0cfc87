"""``train.compile``: compiled against eager Trainer steps on the same batches, compile time apart.

Both Trainers train the quickstart's backbone (AlexNet-BN width 0.5, 32 px) on identity + the three
rotations (eq. 4.1's "all" mode, batch 64: 256 inputs a step) from the same initial weights. The
first steps of the compiled run (where ``torch.compile`` traces and generates code) are timed
apart as the compile time; steady-state steps are then timed in interleaved rounds (best of each),
so a load that changes during the run reaches both alike. The default of ``train.compile`` follows
this measurement.
"""

from __future__ import annotations

from typing import Any

import torch

from benchmarks.step_timing import interleaved_step_times, quiet_trainer
from transformrec.data.procedural import ProceduralShapes
from transformrec.transforms import Identity, Rotation, TransformSet

NAME = "compile_speed"
SETTINGS = {"smoke": (2, 1, 2), "quick": (5, 3, 3), "full": (10, 5, 3)}  # steps per round, rounds, warm-up steps


def run(suite: str = "quick") -> dict[str, Any]:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    per_round, rounds, warm_up = SETTINGS[suite]
    total = warm_up + per_round * rounds
    data = ProceduralShapes(num_samples=64 * total, image_size=32)
    trainers = {
        name: quiet_trainer(
            TransformSet([Identity(), Rotation()]),
            data,
            32,
            batch_size=64,
            steps=total,
            compile=name == "compiled",
            device=device,
        )
        for name in ("eager", "compiled")
    }
    best, warm = interleaved_step_times(trainers, warm_up, per_round, rounds, device)  # compiles in its warm-up
    return {
        "device": device,
        "torch": torch.__version__,
        "steps_per_round": per_round,
        "rounds": rounds,
        "warm_up_steps": warm_up,
        "eager_ms_per_step": 1e3 * best["eager"],
        "compiled_ms_per_step": 1e3 * best["compiled"],
        "speed_up": best["eager"] / best["compiled"],
        "compile_seconds": warm["compiled"] - warm_up * best["compiled"],
        "warm_up_seconds": warm,
    }


def to_markdown(result: dict[str, Any]) -> str:
    verdict = "faster" if result["speed_up"] > 1.05 else "not faster" if result["speed_up"] >= 0.95 else "slower"
    return "\n".join(
        [
            f"Device: {result['device']}; AlexNet-BN (width 0.5, 32 px), identity + 3 rotations, batch 64 (256 "
            f"inputs a step); {result['warm_up_steps']} warm-up steps (the compile), then best of "
            f"{result['rounds']} interleaved rounds of {result['steps_per_round']} steps each.",
            "",
            "| eager (ms/step) | compiled (ms/step) | speed-up | compile time (s) |",
            "|---|---|---|---|",
            f"| {result['eager_ms_per_step']:.1f} | {result['compiled_ms_per_step']:.1f} | "
            f"{result['speed_up']:.2f}× ({verdict}) | {result['compile_seconds']:.0f} |",
        ]
    )
