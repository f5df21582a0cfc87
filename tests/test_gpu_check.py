"""The prepared GPU script runs its stages end to end on the CPU at toy sizes (CI has no GPU)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_dry_run_on_cpu_records_every_stage_it_ran(tmp_path):
    out = tmp_path / "gpu_check.json"
    stages = [
        "pretext_step",
        "sync_batchnorm",
        "video",
        "lean_video_blocks",
        "gan",
        "learned_transforms",
        "bilevel_grads",
    ]
    command = [sys.executable, "-m", "benchmarks.gpu_check", "--device", "cpu", "--tiny", "--out", str(out)]
    for stage in stages:
        command += ["--only", stage]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads(out.read_text())
    assert list(record["stages"]) == stages and record["device"] == "cpu"
    assert record["stages"]["sync_batchnorm"]["skipped"] == "SyncBatchNorm needs CUDA"
    assert record["stages"]["pretext_step"]["32px_width0.5"]["amp_channels_last"]["channels_last_active"]
    video = record["stages"]["video"]
    assert video["steps"] >= 1 and video["clips_per_second"] > 0
    lean = record["stages"]["lean_video_blocks"]
    assert lean["max_relative_gradient_difference"] < 1e-4 and lean["lean_ms_per_step"] > 0
    gan = record["stages"]["gan"]
    assert "skipped" in gan or gan["width0.125"]["ratio_dfgan_vs_standard"] > 0
    learned = record["stages"]["learned_transforms"]
    assert set(learned["step_time_vs_rotation"]) == {"rotation_lci", "damage_repair"}
    assert 0 <= learned["rotation_lci"]["lci_quality"]["noise_correlation"] <= 1
    assert record["stages"]["bilevel_grads"]["ratio_vmap"] > 0 and record["stages"]["bilevel_grads"]["k"] == 8


def test_gpu_check_refuses_cuda_without_a_gpu_in_one_line():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu_check", "--device", "cuda"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stdout.strip().startswith("error: --device cuda but torch sees no CUDA")
