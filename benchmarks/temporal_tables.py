"""Table 5.1 at small scale (video loading vs training throughput: ``benchmarks/video_loading.py``).

Procedural motion videos (``transformrec make-videos``: five motion laws with Fashion-MNIST
sprites, 128 frames, written as H.264 mp4) stand in for UCF101: the "action" is the motion law.
Each row pretrains C3D-small on a different set of temporal transformations, with or without
the speed loss, then (i) trains 3 FC layers on frozen conv5 features and (ii) fine-tunes the
whole network, as in table 5.1's two columns. A random-init row is the baseline.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from transformrec.backbones import build_backbone
from transformrec.data.procedural_video import load_sprites, write_procedural_videos
from transformrec.data.video_folder import VideoFolder
from transformrec.eval.video_action import finetune_action_classification, frozen_action_classification
from transformrec.training import Trainer
from transformrec.transforms import build_transform

NAME = "temporal_tables"
CACHE = Path(tempfile.gettempdir()) / "transformrec_benchmark_videos"

ROWS = {  # (transforms, speed loss) as in table 5.1
    "Speed": (["speed"], True),
    "Speed + Random": (["speed", "random_order"], False),
    "Speed + Periodic": (["speed", "periodic"], False),
    "Speed + Warp": (["speed", "temporal_warp"], False),
    "Speed + Random (speed loss)": (["speed", "random_order"], True),
    "Speed + Periodic (speed loss)": (["speed", "periodic"], True),
    "Speed + Warp (speed loss)": (["speed", "temporal_warp"], True),
    "All four": (["speed", "random_order", "periodic", "temporal_warp"], False),
    "All four (speed loss)": (["speed", "random_order", "periodic", "temporal_warp"], True),
}
QUICK_ROWS = ("Speed", "All four (speed loss)")
THESIS_5_1 = {  # UCF101 frozen conv, HMDB51 fine-tuned (%)
    "Action labels (supervised)": (60.7, 28.8),
    "Speed": (49.3, 32.5),
    "Speed + Random": (44.5, 31.7),
    "Speed + Periodic": (40.6, 29.5),
    "Speed + Warp": (43.5, 32.6),
    "Speed + Random (speed loss)": (55.1, 33.2),
    "Speed + Periodic (speed loss)": (56.5, 36.1),
    "Speed + Warp (speed loss)": (55.8, 36.9),
    "All four": (54.2, 34.9),
    "All four (speed loss)": (60.6, 38.0),
}
SCALES = {
    "smoke": dict(train=10, test=5, frames=64, size=16, width=0.125, epochs=1, batch=5, eval_epochs=2, ft_epochs=1),
    "quick": dict(train=40, test=20, frames=128, size=32, width=0.25, epochs=1, batch=4, eval_epochs=20, ft_epochs=1),
    "full": dict(train=100, test=50, frames=128, size=32, width=0.25, epochs=3, batch=4, eval_epochs=50, ft_epochs=3),
}


def _videos(scale: dict) -> tuple[VideoFolder, VideoFolder]:
    root = CACHE / f"n{scale['train']}_{scale['test']}_f{scale['frames']}_s{scale['size']}"
    sprites = load_sprites()
    for split, count in (("train", scale["train"]), ("test", scale["test"])):
        write_procedural_videos(root, count, split, 0, scale["frames"], scale["size"], sprites=sprites)
    return VideoFolder(root, split="train"), VideoFolder(root, split="test")


def _transforms(names: list[str], speed_loss: bool):
    return [build_transform(n, speed_loss=speed_loss) if n == "speed" else build_transform(n) for n in names]


def _evaluate(backbone, train, test, scale: dict) -> dict:
    frozen = frozen_action_classification(backbone, train, test, epochs=scale["eval_epochs"])
    tuned = finetune_action_classification(
        backbone, train, test, epochs=scale["ft_epochs"], lr=1e-3, batch_size=scale["batch"], test_clips=3
    )
    return {"frozen_conv5": frozen["test_acc"], "finetuned": tuned["test_acc"]}


def run(suite: str = "quick") -> dict:
    """Smoke: 10 short videos, one row. Quick: 40 videos, 1 epoch, two rows. Full: 100 videos, 3 epochs, every row."""
    scale = SCALES[suite]
    train, test = _videos(scale)
    rows = {k: v for k, v in ROWS.items() if suite == "full" or k in QUICK_ROWS}
    if suite == "smoke":
        rows = {k: rows[k] for k in ("All four (speed loss)",)}
    results = {}
    torch.manual_seed(0)
    started = time.perf_counter()
    results["Random init"] = _evaluate(build_backbone("c3d_small", width=scale["width"]), train, test, scale)
    results["Random init"]["seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    torch.manual_seed(0)
    supervised = finetune_action_classification(
        build_backbone("c3d_small", width=scale["width"]),
        train,
        test,
        epochs=scale["epochs"],
        lr=1e-3,
        batch_size=scale["batch"],
        test_clips=3,
        return_backbone=True,
    )["backbone"]
    results["Action labels (supervised)"] = _evaluate(supervised, train, test, scale)
    results["Action labels (supervised)"]["seconds"] = time.perf_counter() - started
    print(f"  Action labels (supervised): {results['Action labels (supervised)']}", flush=True)
    for row, (names, speed_loss) in rows.items():
        started = time.perf_counter()
        torch.manual_seed(0)
        backbone = build_backbone("c3d_small", width=scale["width"])
        with tempfile.TemporaryDirectory() as out:
            summary = Trainer(
                transforms=_transforms(names, speed_loss),
                backbone=backbone,
                data=train,
                epochs=scale["epochs"],
                batch_size=scale["batch"],
                betas=(0.9, 0.99),
                output_dir=out,
                progress=False,
                tensorboard=False,
                device="cpu",
            ).fit()
        results[row] = {
            **_evaluate(backbone, train, test, scale),
            "pretext": {k: v for k, v in summary["final_metrics"].items() if k.startswith("acc/")},
            "seconds": time.perf_counter() - started,
        }
        print(f"  {row}: {results[row]}", flush=True)
    return {
        "scale": scale,
        "torch_threads": torch.get_num_threads(),
        "rows": results,
    }


def to_markdown(result: dict) -> str:
    scale = result["scale"]
    lines = [
        f"Data: procedural motion videos (`transformrec make-videos`, Fashion-MNIST sprites, 5 motion laws as "
        f"classes), {scale['train']} training / {scale['test']} test videos of {scale['frames']} frames at "
        f"{scale['size']}x{scale['size']}, H.264. C3D-small (width {scale['width']}), pretext {scale['epochs']} "
        f"epochs of {scale['batch']} videos x all their clips; AdamW (0.9, 0.99), lr 3e-4 -> 3e-7. Transfer at "
        f"speed 2: frozen conv5 + 3 FC ({scale['eval_epochs']} epochs, 4 train / 5 test clips per video) and "
        f"fine-tuning of the whole network ({scale['ft_epochs']} epochs, lr 1e-3, 3 test clips); video accuracy "
        f"in %, chance 20%. One seed; torch threads: {result['torch_threads']}.",
        "",
        "| pre-training signal | frozen conv5 + 3 FC | fine-tuned | pretext accuracy "
        "| thesis UCF101 frozen / HMDB51 ft |",
        "|---|---|---|---|---|",
    ]
    for row, outcome in result["rows"].items():
        pretext = ", ".join(f"{k.split('/')[1]} {v:.2f}" for k, v in outcome.get("pretext", {}).items()) or "–"
        thesis = THESIS_5_1.get(row)
        reference = f"{thesis[0]:.1f} / {thesis[1]:.1f}" if thesis else "–"
        frozen, tuned = 100 * outcome["frozen_conv5"], 100 * outcome["finetuned"]
        lines.append(f"| {row} | {frozen:.1f} | {tuned:.1f} | {pretext} | {reference} |")
    speed = result.get("throughput")  # stored by runs before video loading had its own benchmark
    if speed:
        lines += [
            "",
            f"Throughput of that run ({speed['clip']} clips, {speed['decoder']}, before one-thread decoding; "
            f"see the video-loading section for the current loaders): TemporalClips decoded "
            f"{speed['loader_clips_per_second']:.1f} clips/s on one process; a C3D-small training step consumed "
            f"{speed['train_clips_per_second']:.1f} clips/s; loader / train = {speed['loader_over_train']:.2f}.",
        ]
    return "\n".join(lines)
