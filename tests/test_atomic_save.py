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


def test_a_failed_write_is_one_oserror_and_the_previous_file_and_no_temporary_remain(tmp_path, monkeypatch):
    import pytest

    from transformrec.atomic_save import save_atomic

    target = tmp_path / "checkpoint.pt"
    save_atomic({"version": 1}, target)
    real_save = torch.save

    def disk_full(obj, stream, *args, **kwargs):  # what torch raises when the disk fills mid-write
        real_save(obj, stream, *args, **kwargs)
        raise RuntimeError("[enforce fail at inline_container.cc:603] . PytorchStreamWriter failed writing file")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError, match=r"cannot write .*checkpoint\.pt: \[enforce fail .*\(the disk may be full"):
        save_atomic({"version": 2}, target)
    monkeypatch.setattr(torch, "save", real_save)
    assert torch.load(target, weights_only=True) == {"version": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]
