"""What a learned transform costs: a Trainer step with LCI or damage & repair against a rotation step.

Every row trains the same backbone (AlexNet-BN, width 0.5, 64 px: the thesis's 48 px LCI patch)
on the same batch of 64 images from the same initial weights; only the TransformSet differs:
identity + the three rotations (the reference), the same plus LCI with F and D at the thesis's
width 64, and damage & repair at its default width (its pre-training phase, one step here, is not
timed). Steps are timed in interleaved rounds (best of each, :mod:`benchmarks.step_timing`).
Target: an LCI step ≤ 2× the rotation step.

``profile`` (the full suite) also records the ten operators that take most of an LCI step's time
(``torch.profiler``, self CPU time), to say where the time goes.
"""

from __future__ import annotations

from typing import Any

import torch

from benchmarks.step_timing import interleaved_step_times, quiet_trainer
from transformrec.data.procedural import ProceduralShapes
from transformrec.training.trainer import Trainer
from transformrec.transforms import DamageRepair, Identity, LimitedContextInpainting, Rotation, TransformSet

NAME = "learned_transform_cost"
SETTINGS = {"smoke": (1, 1, 1, 16), "quick": (2, 2, 1, 64), "full": (3, 2, 1, 64)}  # per round, rounds, warm-up, B
LCI_TARGET = 2.0
IMAGE_SIZE = 64


def _transform_sets(channels: int) -> dict[str, TransformSet]:
    return {
        "Rot (identity + 3 rotations)": TransformSet([Identity(), Rotation()]),
        "Rot + LCI (F and D width 64)": TransformSet(
            [Identity(), Rotation(), LimitedContextInpainting(channels=channels, width=64)]
        ),
        "damage & repair (width 32)": TransformSet([DamageRepair(channels=channels, pretrain_steps=1)]),
    }


def _profile_lci(trainer: Trainer) -> list[dict[str, Any]]:
    """The ten operators with the most self CPU time over two more LCI steps."""
    from torch.profiler import ProfilerActivity, profile

    steps = trainer.steps()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(2):
            next(steps)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1
    return [
        {"op": e.key, "share": e.self_cpu_time_total / total, "calls": e.count, "ms": e.self_cpu_time_total / 2e3}
        for e in events[:10]
    ]


def run(suite: str = "quick") -> dict[str, Any]:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    per_round, rounds, warm_up, batch = SETTINGS[suite]
    total = warm_up + per_round * rounds + 2  # two more for the profile
    data = ProceduralShapes(num_samples=batch * total, image_size=IMAGE_SIZE)
    trainers = {
        name: quiet_trainer(ts, data, IMAGE_SIZE, batch_size=batch, steps=total, device=device)
        for name, ts in _transform_sets(3).items()
    }
    best, _ = interleaved_step_times(trainers, warm_up, per_round, rounds, device)
    reference = "Rot (identity + 3 rotations)"
    rows = [
        {"transforms": name, "ms_per_step": 1e3 * seconds, "ratio": seconds / best[reference]}
        for name, seconds in best.items()
    ]
    result: dict[str, Any] = {
        "device": device,
        "batch": batch,
        "image_size": IMAGE_SIZE,
        "steps_per_round": per_round,
        "rounds": rounds,
        "rows": rows,
    }
    if suite == "full":
        result["lci_profile"] = _profile_lci(trainers["Rot + LCI (F and D width 64)"])
    return result


def to_markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Device: {result['device']}; AlexNet-BN (width 0.5, {result['image_size']} px), batch {result['batch']} "
        f"images, the same initial weights; best of {result['rounds']} interleaved rounds of "
        f"{result['steps_per_round']} steps. Target: an LCI step ≤ {LCI_TARGET:g}× the rotation step.",
        "",
        "| transforms | ms / step | × the rotation step |",
        "|---|---|---|",
    ]
    for row in result["rows"]:
        mark = ""
        if "LCI" in row["transforms"]:
            mark = " (met)" if row["ratio"] <= LCI_TARGET else " (not met)"
        lines.append(f"| {row['transforms']} | {row['ms_per_step']:.0f} | {row['ratio']:.2f}{mark} |")
    if result.get("lci_profile"):
        lines += [
            "",
            "Where an LCI step's time goes (torch.profiler, self CPU time over two steps, top ten operators):",
            "",
            "| operator | share | calls | ms per step |",
            "|---|---|---|---|",
        ]
        for op in result["lci_profile"]:
            lines.append(f"| `{op['op']}` | {100 * op['share']:.1f} % | {op['calls']} | {op['ms']:.1f} |")
    return "\n".join(lines)
