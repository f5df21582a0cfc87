"""The command line under ``torchrun``: every rank trains, rank 0 alone evaluates, prints and writes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]


def test_demo_under_torchrun_trains_on_two_ranks_and_evaluates_once(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(
        f"output_dir: {tmp_path / 'run'}\n"
        "device: cpu\n"
        "data: {name: upright_objects, num_samples: 128, image_size: 32}\n"
        "backbone: {name: alexnet_bn, width: 0.125, fc_dim: 64}\n"
        "train: {epochs: 1, batch_size: 32, checkpoint_every: 2}\n"
        "evaluation:\n  protocol: knn\n  labels_per_class: null\n  options: {ks: [1]}\n"
        "  train_data: {name: upright_objects, num_samples: 40, image_size: 32}\n"
        "  test_data: {name: upright_objects, num_samples: 20, image_size: 32, split: test}\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR")}
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    done = subprocess.run(
        [*torchrun, "-m", "transformrec.cli.main", "demo", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary_lines = [line for line in done.stdout.splitlines() if line.startswith("pretrained ")]
    assert len(summary_lines) == 1  # one summary line: rank 1 trains but does not print
    assert "pretrained: best test accuracy" in done.stdout
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["world_size"] == 2
    assert summary["steps"] == 128 // 32  # batch_size is the global batch: the ranks share each step
    assert (tmp_path / "run" / "eval_knn.json").exists()
    state = torch.load(tmp_path / "run" / "checkpoint.pt", map_location="cpu", weights_only=True)
    assert state  # written atomically by rank 0 and loadable with weights_only
