"""``python -m benchmarks.gpu_check``: one short run over every CUDA path, with GPU timings recorded.

Why a prepared script: GPU time is scarce and CI has none, so the checks that need a GPU are one
command, sized to finish in under 8 minutes on one GPU, that writes what it measured to
``benchmarks/results/gpu_check.json`` (stage by stage, so a cut-off run keeps what it finished).
Stages, each timed and each allowed to fail on its own (the error is recorded, the rest go on):

  * ``pretext_step``: Trainer steps/s of the demo's task (upright_objects, AlexNet-BN) in fp32, AMP,
    and AMP + channels_last, side by side, at 32 px width 0.5 and at 64 px width 1.0; the loader
    pins memory on CUDA;
  * ``demo``: the README's main job (``configs/quickstart.yaml``) on the GPU: wall time and gain;
  * ``sync_batchnorm``: SyncBatchNorm's CUDA kernels in a one-process NCCL group give the same
    outputs and gradients as BatchNorm (one GPU cannot hold a two-rank NCCL group);
  * ``video``: procedural H.264 videos, then C3D-small pretext steps (AMP) with loader workers;
  * ``lean_video_blocks``: C3D-small's memory-lean blocks on the device in fp32 against the same
    weights as plain modules (28 clips of 16×112×112, chapter 5's batch): largest gradient
    difference, ms per step and peak memory of each;
  * ``gan``: standard vs DFGAN vs alternative-batch step times at widths 0.5 and 1.0 (needs
    Fashion-MNIST: Debian's package, or a copy under ``data/fashion-mnist`` that the shell
    wrapper links into place);
  * ``learned_transforms``: Trainer steps of the learned transforms on the device with AMP (on CUDA):
    rotation + LCI (ch. 4) and damage & repair (ch. 3, with a short autoencoder phase) against a
    rotation-only step of the same backbone and batch, and LCI's inpainting quality at the end;
  * ``bilevel_grads``: the k per-batch gradients of a bilevel step by vmap and by a loop, against
    one plain backward (CifarNet, k = 8), which decides the device's default ``method``.

``--device cpu --tiny`` runs the same stages at toy sizes on the CPU (CUDA-only stages say
"skipped"), which is how the tests keep this script from rotting.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.environment import describe_environment
from transformrec import experiment
from transformrec.config.loading import load_config

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "gpu_check.json"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _pretext_config(out: str, device: str, tiny: bool, size: int, width: float, **train) -> object:
    overrides = [
        f"output_dir={out}",
        f"device={device}",
        f"data.image_size={size}",
        f"backbone.width={width}",
        f"data.num_samples={256 if tiny else 4096}",
        "train.epochs=1",
        f"train.batch_size={16 if tiny else 64}",
        "train.checkpoint_every=100000",
        *(f"train.{key}={str(value).lower()}" for key, value in train.items()),
    ]
    return load_config(ROOT / "configs" / "quickstart.yaml", overrides)


def stage_pretext_step(device: torch.device, tiny: bool) -> dict:
    """Steps/s per precision/layout, measured on the same data right after each other."""
    from transformrec.config.build import build_trainer

    settings = [(32, 0.5)] if tiny else [(32, 0.5), (64, 1.0)]
    variants = {"fp32": {}, "amp": {"amp": True}, "amp_channels_last": {"amp": True, "channels_last": True}}
    results = {}
    for size, width in settings:
        row = {}
        for name, train in variants.items():
            with tempfile.TemporaryDirectory() as out:
                config = _pretext_config(out, str(device), tiny, size, width, max_steps=10 if tiny else 120, **train)
                trainer = build_trainer(config, progress=False)
                summary = trainer.fit()
            row[name] = {
                "steps": summary["steps"],
                "images_per_second": summary["images_per_second"],
                "amp_active": trainer.amp,
                "channels_last_active": trainer.channels_last,
            }
        fp32 = row["fp32"]["images_per_second"]
        row["speedup_vs_fp32"] = {k: row[k]["images_per_second"] / fp32 for k in variants if k != "fp32"}
        results[f"{size}px_width{width}"] = row
    return results


def stage_demo(device: torch.device, tiny: bool) -> dict:
    """The README's main job, timed end to end, with the best-layer gain it prints."""
    with tempfile.TemporaryDirectory() as out:
        overrides = [f"output_dir={out}", f"device={device}"]
        if tiny:
            overrides += [
                "data.num_samples=256",
                "train.epochs=1",
                "evaluation.labels_per_class=5",
                "evaluation.options={epochs: 3}",
                "evaluation.test_data.num_samples=100",
            ]
        config = load_config(ROOT / "configs" / "quickstart.yaml", overrides)
        started = time.perf_counter()
        summary = experiment.pretrain(config, progress=False)
        results = experiment.evaluate(config)
        seconds = time.perf_counter() - started
    best = {k: results[k]["best_test_acc"] for k in ("pretrained", "random")}
    return {
        "wall_seconds": seconds,
        "pretext_seconds": summary["wall_seconds"],
        "best_test_acc": best,
        "gain_points": 100 * (best["pretrained"] - best["random"]),
    }


def stage_sync_batchnorm(device: torch.device, tiny: bool) -> dict:
    """SyncBatchNorm (NCCL, one rank) against BatchNorm: same forward outputs and input gradients."""
    if device.type != "cuda":
        return {"skipped": "SyncBatchNorm needs CUDA"}
    import torch.distributed as dist

    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29517")
    dist.init_process_group("nccl", rank=0, world_size=1)
    try:
        torch.manual_seed(0)
        plain = torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3), torch.nn.BatchNorm2d(32)).to(device)
        synced = torch.nn.SyncBatchNorm.convert_sync_batchnorm(
            torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3), torch.nn.BatchNorm2d(32))
        ).to(device)
        synced.load_state_dict(plain.state_dict())
        x = torch.randn(16, 3, 32, 32, device=device, requires_grad=True)
        y = x.detach().clone().requires_grad_()
        out_plain, out_sync = plain(x), synced(y)
        out_plain.square().sum().backward()
        out_sync.square().sum().backward()
        return {
            "max_abs_output_difference": float((out_plain - out_sync).abs().max()),
            "max_abs_grad_difference": float((x.grad - y.grad).abs().max()),
            "running_mean_difference": float((plain[1].running_mean - synced[1].running_mean).abs().max()),
        }
    finally:
        dist.destroy_process_group()


def stage_video(device: torch.device, tiny: bool) -> dict:
    """C3D-small pretext steps on procedural H.264 videos, with loader workers and (on CUDA) AMP."""
    from transformrec.config.build import build_trainer
    from transformrec.data.procedural_video import write_procedural_videos

    with tempfile.TemporaryDirectory() as root:
        started = time.perf_counter()
        write_procedural_videos(root, 16 if tiny else 64, "train", num_frames=48, size=32)
        written = time.perf_counter() - started
        overrides = [
            f"output_dir={root}/run",
            f"device={device}",
            f"data.root={root}",
            "train.epochs=1",
            f"train.max_steps={3 if tiny else 60}",
            f"train.num_workers={0 if tiny else 8}",
            f"train.amp={str(device.type == 'cuda').lower()}",
            "train.checkpoint_every=100000",
        ]
        config = load_config(ROOT / "configs" / "procedural_video_temporal.yaml", overrides)
        trainer = build_trainer(config, progress=False)
        summary = trainer.fit()
    return {
        "videos_written_seconds": written,
        "steps": summary["steps"],
        "clips_per_second": summary["images_per_second"],
        "wall_seconds": summary["wall_seconds"],
        "amp_active": trainer.amp,
    }


def stage_lean_video_blocks(device: torch.device, tiny: bool) -> dict:
    """C3D-small's memory-lean blocks against its plain modules: same gradients, time and peak memory."""
    from transformrec.backbones.video import c3d_small

    clips, frames, size, repeats = (2, 8, 32, 1) if tiny else (28, 16, 112, 3)
    generator = torch.Generator().manual_seed(0)
    batch = torch.rand(clips, 3, frames, size, size, generator=generator).to(device)
    lean = c3d_small(width=0.125 if tiny else 1.0).to(device).train()
    plain = c3d_small(width=0.125 if tiny else 1.0, lean_blocks=False).to(device).train()
    plain.load_state_dict(lean.state_dict())
    outcome: dict[str, object] = {"clips": clips, "frames": frames, "size": size}
    grads = {}
    for name, net in (("lean", lean), ("plain", plain)):
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        times = []
        for _ in range(repeats):
            net.zero_grad(set_to_none=True)
            _sync(device)
            started = time.perf_counter()
            net(batch).square().mean().backward()
            _sync(device)
            times.append(time.perf_counter() - started)
        grads[name] = [p.grad.detach().clone() for p in net.parameters()]
        outcome[f"{name}_ms_per_step"] = 1e3 * min(times)
        if device.type == "cuda":
            outcome[f"{name}_peak_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    outcome["max_relative_gradient_difference"] = max(
        float((a - b).abs().max() / b.abs().max().clamp(min=1e-12))
        for a, b in zip(grads["lean"], grads["plain"], strict=True)
    )
    return outcome


def stage_gan(device: torch.device, tiny: bool) -> dict:
    """Seconds per generator step of the standard GAN, DFGAN and the alternative mini-batch (table 7.1)."""
    from transformrec.config.gan_build import build_gan_trainer, load_gan_config
    from transformrec.data.fashion_mnist import DEBIAN_DIR

    if not os.path.isdir(DEBIAN_DIR):
        return {"skipped": f"Fashion-MNIST not found at {DEBIAN_DIR}"}
    rows = {"standard": ["noise.kind=none"], "dfgan": [], "alternative_batch": ["noise.mode=half_noisy"]}
    results = {}
    for width in [0.125] if tiny else [0.5, 1.0]:
        row = {}
        for name, extra in rows.items():
            with tempfile.TemporaryDirectory() as out:
                overrides = [
                    f"output_dir={out}",
                    f"device={device}",
                    f"width={width}",
                    f"steps={5 if tiny else 300}",
                    "eval.extractor=none",
                    "sample_every=100000",
                    "checkpoint_every=100000",
                    *extra,
                ]
                if tiny:
                    overrides.append("train_images=512")
                config = load_gan_config(ROOT / "configs" / "ch7_dfgan_fashion_mnist.yaml", overrides)
                trainer = build_gan_trainer(config)
                trainer.train_step()  # warm-up: cuDNN autotuning and allocator growth are not step time
                _sync(device)
                started = time.perf_counter()
                steps = 5 if tiny else 300
                for _ in range(steps):
                    trainer.train_step()
                _sync(device)
                row[name] = (time.perf_counter() - started) / steps
        row["ratio_dfgan_vs_standard"] = row["dfgan"] / row["standard"]
        row["ratio_alternative_vs_standard"] = row["alternative_batch"] / row["standard"]
        results[f"width{width}"] = row
    return results


LEARNED_TRANSFORMS = {  # the same backbone and batch; a learned transform's cost is its ratio to rotation's
    "rotation": ("configs/quickstart.yaml", []),
    "rotation_lci": ("configs/quickstart.yaml", ["transforms=[identity, rotation, {name: lci, width: 16}]"]),
    "damage_repair": (
        "configs/ch3_damage_repair_upright.yaml",
        ["data.image_size=32", "transforms=[{name: damage_repair, width: 16, drop_rate: 0.5, pretrain_steps: PRE}]"],
    ),
}


def stage_learned_transforms(device: torch.device, tiny: bool) -> dict:
    """Images/s of rotation + LCI and of damage & repair against rotation alone (AMP on CUDA)."""
    from transformrec.config.build import build_trainer
    from transformrec.functional.inpainting_quality import QUALITY_NAMES

    lci_quality = (*QUALITY_NAMES, "discriminator_accuracy")
    steps, pretrain = (3, 2) if tiny else (80, 20)
    amp = str(device.type == "cuda").lower()
    results: dict[str, dict] = {}
    for name, (config_file, extra) in LEARNED_TRANSFORMS.items():
        with tempfile.TemporaryDirectory() as out:
            overrides = [
                f"output_dir={out}",
                f"device={device}",
                f"data.num_samples={256 if tiny else 4096}",
                "train.epochs=1",
                f"train.batch_size={16 if tiny else 64}",
                f"train.max_steps={steps}",
                f"train.amp={amp}",
                "train.checkpoint_every=100000",
                *(item.replace("PRE", str(pretrain)) for item in extra),
            ]
            trainer = build_trainer(load_config(ROOT / config_file, overrides), progress=False)
            summary = trainer.fit()
        metrics = summary["final_metrics"]
        results[name] = {
            "steps": summary["steps"],
            "images_per_second": summary["images_per_second"],
            "amp_active": trainer.amp,
            "lci_quality": {k: metrics[f"lci/{k}"] for k in lci_quality if f"lci/{k}" in metrics} or None,
        }
    rotation = results["rotation"]["images_per_second"]
    results["step_time_vs_rotation"] = {
        name: rotation / row["images_per_second"] for name, row in results.items() if name != "rotation"
    }
    return results


def stage_bilevel_grads(device: torch.device, tiny: bool) -> dict:
    """Milliseconds of one plain backward vs the k per-batch gradients by vmap and by loop (chapter 8)."""
    from benchmarks.bilevel_noise import BATCH, time_gradients

    generator = torch.Generator().manual_seed(0)
    images = torch.rand(8 * BATCH, 1, 28, 28, generator=generator)
    labels = torch.randint(0, 10, (8 * BATCH,), generator=generator)
    return time_gradients(images, labels, 0.25, BATCH, repeats=2 if tiny else 50, device=device)


STAGES: dict[str, Callable[[torch.device, bool], dict]] = {
    "pretext_step": stage_pretext_step,
    "demo": stage_demo,
    "sync_batchnorm": stage_sync_batchnorm,
    "video": stage_video,
    "lean_video_blocks": stage_lean_video_blocks,
    "gan": stage_gan,
    "learned_transforms": stage_learned_transforms,
    "bilevel_grads": stage_bilevel_grads,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check")
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu for a dry run")
    parser.add_argument("--tiny", action="store_true", help="toy sizes: checks the script, measures nothing")
    parser.add_argument("--out", type=Path, default=OUT, help=f"JSON written stage by stage (default {OUT})")
    parser.add_argument("--only", choices=sorted(STAGES), action="append")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda but torch sees no CUDA device (use --device cpu --tiny for a dry run)")
        return 2
    record = {"environment": describe_environment(), "device": str(device), "tiny": args.tiny, "stages": {}}
    if device.type == "cuda":
        record["gpu"] = torch.cuda.get_device_name(device)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    failed = False
    for name in args.only or list(STAGES):
        print(f"gpu_check: {name} ...", flush=True)
        started = time.perf_counter()
        try:
            outcome = STAGES[name](device, args.tiny)
        except Exception as error:  # one broken path must not hide the others' numbers
            outcome = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()[-2000:]}
            failed = True
        outcome["stage_seconds"] = time.perf_counter() - started
        record["stages"][name] = outcome
        args.out.write_text(json.dumps(record, indent=2))
        print(json.dumps({k: v for k, v in outcome.items() if k != "traceback"}, indent=1), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
