"""Robustness: a pretraining or GAN run killed with SIGKILL mid-run resumes to bit-identical final weights."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
CHECKPOINT_EVERY = 5


def _config(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"output_dir: {tmp_path / name}\n"
        "device: cpu\n"
        "data: {name: upright_objects, image_size: 32, num_samples: 512}\n"
        "backbone: {name: alexnet_bn, width: 0.25, fc_dim: 64}\n"
        f"train: {{epochs: 3, batch_size: 16, checkpoint_every: {CHECKPOINT_EVERY}, log_every: 1}}\n"
    )
    return path


def _pretrain(config: Path, *extra: str, command: str = "pretrain") -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    argv = [sys.executable, "-m", "transformrec.cli.main", command, str(config), *extra]
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _logged_steps(run: Path, column: str = "loss") -> int:
    try:
        with (run / "metrics.csv").open() as stream:
            return sum(1 for row in csv.DictReader(stream) if row.get(column))
    except (FileNotFoundError, KeyError):
        return 0


def _kill_after_checkpoint(victim: subprocess.Popen, run: Path, column: str) -> None:
    """SIGKILL ``victim`` once a checkpoint exists and training has moved past it."""
    deadline = time.monotonic() + 120
    while not ((run / "checkpoint.pt").exists() and _logged_steps(run, column) > CHECKPOINT_EVERY + 1):
        assert victim.poll() is None, "the run finished before it could be killed"
        assert time.monotonic() < deadline, "no checkpoint was written"
        time.sleep(0.005)
    victim.send_signal(signal.SIGKILL)
    victim.wait()


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted_run(tmp_path):
    reference = _pretrain(_config(tmp_path, "reference"))
    run = tmp_path / "killed"
    config = _config(tmp_path, "killed")
    victim = _pretrain(config)
    _kill_after_checkpoint(victim, run, "loss")  # 32 steps per epoch: mid-epoch
    assert not (run / "summary.json").exists()
    killed_at = torch.load(run / "checkpoint.pt", weights_only=True)["step"]
    assert 0 < killed_at < 32 and killed_at % CHECKPOINT_EVERY == 0

    assert _pretrain(config, "--resume").wait(timeout=120) == 0
    assert reference.wait(timeout=120) == 0
    expected = torch.load(tmp_path / "reference" / "backbone.pt", weights_only=True)
    resumed = torch.load(run / "backbone.pt", weights_only=True)
    assert expected.keys() == resumed.keys()
    for name, tensor in expected.items():
        assert torch.equal(resumed[name], tensor), name
    with (run / "metrics.csv").open() as stream:
        steps = [int(float(row["step"])) for row in csv.DictReader(stream) if row.get("loss")]
    assert steps == list(range(1, 97))  # the rows logged after the checkpoint by the killed run were replaced


def _gan_config(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        "kind: gan\n"
        f"output_dir: {tmp_path / name}\n"
        "device: cpu\n"
        "data: {name: upright_objects, split: train, num_samples: 256}\n"
        "width: 0.125\nbatch_size: 16\nsteps: 80\nlog_every: 1\n"
        f"checkpoint_every: {CHECKPOINT_EVERY}\nsample_every: 40\n"
        "noise: {kind: network, penalty: 1.0}\neval: {extractor: none}\n"
    )
    return path


def test_gan_killed_mid_run_then_resumed_matches_uninterrupted_run(tmp_path):
    reference = _pretrain(_gan_config(tmp_path, "reference"), command="gan")
    run, config = tmp_path / "killed", _gan_config(tmp_path, "killed")
    victim = _pretrain(config, command="gan")
    _kill_after_checkpoint(victim, run, "g_loss")
    killed_at = torch.load(run / "checkpoint.pt", weights_only=True)["step"]
    assert 0 < killed_at < 80 and killed_at % CHECKPOINT_EVERY == 0

    assert _pretrain(config, "--resume", command="gan").wait(timeout=120) == 0
    assert reference.wait(timeout=120) == 0
    expected = torch.load(tmp_path / "reference" / "checkpoint.pt", weights_only=True)
    resumed = torch.load(run / "checkpoint.pt", weights_only=True)
    assert resumed["step"] == expected["step"] == 80
    for network in ("generator", "discriminator", "filter"):
        for name, tensor in expected[network].items():
            assert torch.equal(resumed[network][name], tensor), f"{network}.{name}"
    with (run / "metrics.csv").open() as stream:
        steps = [int(float(row["step"])) for row in csv.DictReader(stream) if row.get("g_loss")]
    assert steps == list(range(1, 81))
