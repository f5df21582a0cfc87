"""save_atomic under SIGKILL: the target always loads, as the old or the new version, never truncated."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
WRITER = """
import sys, torch
from transformrec.atomic_save import save_atomic
payload = torch.arange(2_000_000, dtype=torch.float32)
save_atomic({"version": 0, "payload": payload}, sys.argv[1])
print("ready", flush=True)
version = 0
while True:
    version += 1
    save_atomic({"version": version, "payload": payload + version}, sys.argv[1])
"""


def test_kill_during_repeated_writes_never_leaves_a_corrupt_file(tmp_path):
    target = tmp_path / "checkpoint.pt"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    for delay in (0.05, 0.13, 0.31):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target)], env=env, stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(delay)  # an 8 MB write takes milliseconds: the kill lands mid-write or between writes
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        state = torch.load(target, weights_only=True)
        assert torch.equal(state["payload"], torch.arange(2_000_000, dtype=torch.float32) + state["version"])
    # A kill can orphan a temporary file, but never under the target's name.
    assert all(p.name.startswith(".checkpoint.pt.") for p in tmp_path.iterdir() if p != target)
