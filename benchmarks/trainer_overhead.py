"""Trainer overhead vs a minimal hand-written loop (target ratio <= 1.10), and peak memory per config.

Speed: both sides train the same backbone with the same optimiser on the same global batches for
the same number of steps, measured side by side (interleaved, best of several rounds). The
hand-written loop gets the inputs already transformed (the TransformSet output computed before
timing); the Trainer does everything itself: data loading, the transforms (identity + the three
rotations, eq. 4.1's "all" mode; no crop/flip augmentation), the multi-head loss with metrics,
the cosine schedule, NaN check and bookkeeping. The ratio is therefore the Trainer's whole
overhead, transforms included.

Memory: each config in ``configs/`` trains a few steps in a fresh process; we report peak RSS
(CPU; Linux VmHWM, reset once the model and data are built) or ``torch.cuda.max_memory_allocated``
(CUDA), next to the process's RSS before training.
Configs whose data set is not on disk run on the procedural data set at the config's image size
(procedural motion videos for video configs, the procedural multi-view studio for multi-view ones).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

from benchmarks.step_timing import quiet_trainer, sync, timing_backbone
from transformrec.config.loading import ConfigError, load_config
from transformrec.data.procedural import ProceduralShapes
from transformrec.runtime.schedule import build_optimizer
from transformrec.training.model import PretextModel
from transformrec.transforms import Identity, Rotation, TransformSet

NAME = "trainer_overhead"
REPO = Path(__file__).resolve().parents[1]


def _time_trainer(data, steps: int, batch_size: int, device: str) -> float:
    trainer = quiet_trainer(
        TransformSet([Identity(), Rotation()]),
        data,
        32,
        epochs=1,
        batch_size=batch_size,
        device=device,
        max_steps=steps,
    )
    sync(device)
    start = time.perf_counter()
    trainer.fit()
    sync(device)
    return time.perf_counter() - start


def _time_hand_loop(batches: list[tuple[torch.Tensor, dict[str, torch.Tensor]]], device: str) -> float:
    model = PretextModel(timing_backbone(32), {"transform": 4}).to(device)
    optimizer = build_optimizer(model.parameters(), lr=3e-4, betas=(0.5, 0.99), weight_decay=1e-4)
    model.train()
    sync(device)
    start = time.perf_counter()
    for inputs, targets in batches:
        loss = torch.nn.functional.cross_entropy(model(inputs)["transform"], targets["transform"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    sync(device)
    return time.perf_counter() - start


def measure_overhead(suite: str = "quick") -> dict:
    """Best-of-N seconds per step of the Trainer and of the hand-written loop, and their ratio."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    batch_size = 64
    steps, rounds = {"smoke": (2, 1), "quick": (6, 3), "full": (30, 5)}[suite]
    data = ProceduralShapes(num_samples=batch_size * steps, image_size=32)
    transform_set = TransformSet([Identity(), Rotation()])
    generator = torch.Generator().manual_seed(0)
    batches = []
    for step in range(steps):
        images = torch.stack([data[i][0] for i in range(step * batch_size, (step + 1) * batch_size)]).to(device)
        inputs, targets = transform_set(images, generator)
        batches.append((inputs, targets))
    _time_hand_loop(batches[:2], device), _time_trainer(data, 2, batch_size, device)  # warm-up
    trainer_times, hand_times = [], []
    for _ in range(rounds):
        hand_times.append(_time_hand_loop(batches, device))
        trainer_times.append(_time_trainer(data, steps, batch_size, device))
    trainer_step, hand_step = min(trainer_times) / steps, min(hand_times) / steps
    return {
        "device": device,
        "backbone": "alexnet_bn(width=0.5, fc_dim=1024), 32x32",
        "global_batch": f"{batch_size} images x 4 classes = {4 * batch_size} inputs",
        "steps": steps,
        "rounds": rounds,
        "trainer_ms_per_step": 1e3 * trainer_step,
        "hand_loop_ms_per_step": 1e3 * hand_step,
        "ratio": trainer_step / hand_step,
    }


PEAK_MEMORY_CHILD = """
import json, sys, time
from pathlib import Path
import torch
import transformrec
from transformrec.config.build import build_data, build_trainer
from transformrec.config.loading import load_config

def status(key):  # Linux /proc: VmRSS is the current resident set, VmHWM its peak since the last reset
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key + ":"))
    return int(line.split()[1]) / 1024

overrides = [f"train.max_steps={sys.argv[2]}", "train.num_workers=0", f"output_dir={sys.argv[3]}", *sys.argv[4:]]
config = load_config(sys.argv[1], overrides)
substituted = False
try:
    build_data(config.data)
except (FileNotFoundError, OSError):
    if config.data.name == "video_folder":  # procedural motion videos stand in for a missing video folder
        from transformrec.data.procedural_video import write_procedural_videos
        root = Path(sys.argv[3]) / "videos"
        write_procedural_videos(root, 2 * config.train.batch_size, "train", num_frames=128, size=32)
        name, params = "video_folder", {**config.data.params, "root": str(root), "split": "train"}
    elif config.data.name == "multiview_folder":  # the procedural studio stands in for Human3.6M
        from transformrec.data.procedural_multiview import write_procedural_multiview
        root = Path(sys.argv[3]) / "multiview"
        size = config.data.params.get("image_size") or 64
        write_procedural_multiview(root, subjects=("S1",), actions=("walk",), num_frames=40, size=size)
        name, params = "multiview_folder", {**config.data.params, "root": str(root), "split": "train"}
    else:
        name, params = "procedural", {"image_size": config.data.params.get("image_size", 32),
                                      "num_samples": 4 * config.train.batch_size}
    config = config.model_copy(update={"data": config.data.model_copy(update={"name": name, "params": params})})
    substituted = True
trainer = build_trainer(config, progress=False)
trainer.tensorboard = False
for learned in trainer.transform_set.learned_transforms:  # a few steps: pre-training phases too (ch. 3's L_auto,
    for phase in ("pretrain_steps", "warmup_steps"):  # ch. 4's warm-up of F and D)
        if hasattr(learned, phase):
            setattr(learned, phase, min(getattr(learned, phase), int(sys.argv[2])))
before = status("VmRSS")
Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM: the peak of training alone
started = time.perf_counter()
trainer.fit()
seconds_per_step = (time.perf_counter() - started) / int(sys.argv[2])
cuda = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None
print(json.dumps({"rss_before_training_mb": before, "peak_rss_mb": status("VmHWM"), "cuda_peak_mb": cuda,
                  "seconds_per_step": seconds_per_step,
                  "device": str(trainer.device), "batch_size": config.train.batch_size,
                  "data": config.data.name, "substituted_data": substituted}))
"""


def measure_peak_memory(suite: str = "quick", workdir: Path | None = None) -> list[dict]:
    """Peak memory of a few training steps of every config in ``configs/``, one fresh process each.

    The smoke suite measures the quickstart config only.
    """
    import tempfile

    rows = []
    steps = {"smoke": 1, "quick": 3, "full": 10}[suite]
    configs = sorted((REPO / "configs").glob("*.yaml"))
    if suite == "smoke":
        configs = [REPO / "configs" / "quickstart.yaml"]
    with tempfile.TemporaryDirectory() as scratch:
        for config in configs:
            try:
                loaded = load_config(config)
            except ConfigError:  # not a pretext experiment (the GAN config of ch. 7 has its own trainer)
                rows.append({"config": config.name, "skipped": "not a pretext-training config"})
                continue
            env = dict(os.environ, PYTHONPATH=str(REPO))
            for variant, overrides in _variants(loaded.backbone.name):
                out = f"{scratch}/{config.stem}{len(rows)}"
                command = [sys.executable, "-c", PEAK_MEMORY_CHILD, str(config), str(steps), out, *overrides]
                done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=REPO)
                measured = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append({"config": config.name, "variant": variant, "steps": steps, **measured})
    return rows


def _variants(backbone: str) -> list[tuple[str, list[str]]]:
    """The config as shipped, and for C3D-small also with its blocks run as plain modules: the
    memory-lean blocks' saving and their cost, measured side by side in one run."""
    variants = [("", [])]
    if backbone == "c3d_small":
        variants.append(("C3D blocks as plain modules", ["backbone.lean_blocks=false"]))
    return variants


def run(suite: str = "quick") -> dict:
    return {"overhead": measure_overhead(suite), "peak_memory": measure_peak_memory(suite)}


def to_markdown(result: dict) -> str:
    speed = result["overhead"]
    lines = [
        f"Device: {speed['device']}; backbone {speed['backbone']}; global batch {speed['global_batch']}; "
        f"{speed['steps']} steps, best of {speed['rounds']} interleaved rounds. Target: ratio <= 1.10.",
        "",
        "| Trainer (ms/step) | hand-written loop on pre-transformed tensors (ms/step) | ratio |",
        "|---|---|---|",
        f"| {speed['trainer_ms_per_step']:.1f} | {speed['hand_loop_ms_per_step']:.1f} | {speed['ratio']:.3f} |",
        "",
        "Peak memory of a few training steps per shipped config (fresh process each, Linux VmHWM reset "
        "after the model and data are built; RSS includes the interpreter and torch):",
        "",
        "| config | device | batch | data | steps | RSS before training (MB) | peak RSS (MB) | CUDA peak (MB) "
        "| s/step |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["peak_memory"]:
        if "skipped" in row:
            lines.append(f"| {row['config']} | – | – | {row['skipped']} | – | – | – | – | – |")
            continue
        data = row["data"] + (" (substituted: data not on disk)" if row["substituted_data"] else "")
        cuda = "-" if row["cuda_peak_mb"] is None else f"{row['cuda_peak_mb']:.0f}"
        name = row["config"] + (f" ({row['variant']})" if row.get("variant") else "")
        step = f"{row['seconds_per_step']:.2f}" if "seconds_per_step" in row else "–"
        lines.append(
            f"| {name} | {row['device']} | {row['batch_size']} | {data} | {row['steps']} | "
            f"{row['rss_before_training_mb']:.0f} | {row['peak_rss_mb']:.0f} | {cuda} | {step} |"
        )
    if any(row.get("variant") for row in result["peak_memory"]):
        lines += [
            "",
            "A row marked (C3D blocks as plain modules) is the config above it with `backbone.lean_blocks=false`, "
            "measured in the same run: the difference is what C3D-small's memory-lean blocks save in peak RSS and "
            "what they cost per step (s/step: wall time of the steps over their number, data loading included). "
            "Target for ch5_temporal.yaml: peak RSS ≤ 4 GB without a slower step.",
        ]
    return "\n".join(lines)
