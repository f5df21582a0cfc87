"""Scale-out: two gloo processes under torchrun train exactly like one process with the same global batch."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORKER = HERE / "ddp_equivalence_run.py"
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(HERE)])
    env["OMP_NUM_THREADS"] = "1"
    return env


def _losses(out: Path) -> list[float]:
    with (out / "metrics.csv").open() as stream:
        return [float(row["loss"]) for row in csv.DictReader(stream) if row.get("loss")]


@pytest.mark.parametrize("mode", ["all", "sample"])
def test_two_processes_match_one_process_step_for_step(tmp_path, mode):
    single, sharded = tmp_path / "single", tmp_path / "ddp"
    subprocess.run([sys.executable, str(WORKER), str(single), mode], check=True, env=_environment(), timeout=120)
    subprocess.run([*TORCHRUN, str(WORKER), str(sharded), mode], check=True, env=_environment(), timeout=120)

    one, two = _losses(single), _losses(sharded)
    assert len(one) == len(two) == 12  # 48 images / global batch 8 × 2 epochs, logged once (by rank 0)
    torch.testing.assert_close(torch.tensor(two), torch.tensor(one), rtol=1e-5, atol=1e-6)
    expected, got = (
        torch.load(single / "final.pt", weights_only=True),
        torch.load(sharded / "final.pt", weights_only=True),
    )
    torch.testing.assert_close(got["shift"], expected["shift"], rtol=1e-5, atol=1e-6)
    # Weights to 1e-5: Adam divides by √v, so a weight whose gradient is at rounding level (a feature
    # that is almost never active) moves by a visible fraction of lr on a difference of summation order
    # alone; a sharding error moves weights by orders of magnitude more.
    for name, tensor in expected["model"].items():
        torch.testing.assert_close(got["model"][name], tensor, rtol=1e-5, atol=1e-5, msg=name)


def test_each_rank_keeps_its_source_images_under_every_class():
    from transformrec.runtime.distributed import DistributedContext
    from transformrec.training.global_batch import take_own_samples

    # mode="all" layout: 3 classes × global batch 4, sample value = 10 * class + source image.
    samples = torch.tensor([10 * k + b for k in range(3) for b in range(4)])
    rank1 = DistributedContext(rank=1, world_size=2, local_rank=1, device=torch.device("cpu"))
    assert take_own_samples(samples, 4, rank1).tolist() == [2, 3, 12, 13, 22, 23]
    with pytest.raises(ValueError, match="not a multiple of the global batch"):
        take_own_samples(samples[:-1], 4, rank1)


def _train_on_two_ranks(script: str, *args, timeout: int) -> tuple[dict, dict]:
    """Run ``script *args`` under torchrun with 2 ranks; the last argument is the folder each rank saves
    ``rank<r>.pt`` into. Returns the two saved states."""
    subprocess.run([*TORCHRUN, str(HERE / script), *map(str, args)], check=True, env=_environment(), timeout=timeout)
    out = Path(args[-1])
    return tuple(torch.load(out / f"rank{rank}.pt", weights_only=True) for rank in (0, 1))


def _assert_same_on_both_ranks(rank0: dict, rank1: dict, own_per_rank=()) -> list[str]:
    """Every tensor equal on both ranks except BatchNorm statistics (each rank normalises its own images)
    and names starting with ``own_per_rank``; returns the names compared."""
    assert rank0.keys() == rank1.keys()
    compared = []
    for name, tensor in rank0.items():
        if "running" in name or "num_batches" in name or name.startswith(tuple(own_per_rank)):
            continue
        torch.testing.assert_close(rank1[name], tensor, rtol=1e-5, atol=1e-6, msg=name)
        compared.append(name)
    return compared


def test_lci_networks_stay_identical_across_ranks(tmp_path):
    """F and D step outside DDP; averaging their gradients keeps one network, not two drifting copies."""
    rank0, rank1 = _train_on_two_ranks("ddp_learned_transform_run.py", "lci", tmp_path, timeout=120)
    assert [k for k in rank0 if k.endswith("weight") and "inpainter" in k]
    _assert_same_on_both_ranks(rank0, rank1)


def test_damage_repair_autoencoder_and_repair_network_stay_identical_across_ranks(tmp_path):
    """E/D pre-train and R steps outside DDP; their gradients are averaged, so every rank keeps one network."""
    rank0, rank1 = _train_on_two_ranks("ddp_learned_transform_run.py", "damage_repair", tmp_path, timeout=180)
    # the history of corrupted examples holds each rank's own images
    compared = _assert_same_on_both_ranks(rank0, rank1, own_per_rank=("history",))
    networks = [n for n in compared if n.startswith(("encoder", "decoder", "repair")) and n.endswith("weight")]
    assert len(networks) > 10


def test_multiview_pairs_train_under_torchrun_with_one_model_across_ranks(multiview_root, tmp_path):
    """Pair data makes its own targets; under torchrun the ranks share the global batch and keep one model."""
    rank0, rank1 = _train_on_two_ranks("ddp_multiview_run.py", multiview_root, tmp_path, timeout=180)
    assert rank0["steps"] == rank1["steps"] == -(-rank0["samples"] // 4)  # global batch 4 anchors, last one partial
    _assert_same_on_both_ranks(rank0["model"], rank1["model"])
