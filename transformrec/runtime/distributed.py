"""Process-group set-up for ``torchrun`` (DDP with gloo on CPU, nccl on GPU)."""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

_EXIT_BARRIER_SECONDS = 120


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands: its rank, the world size and its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def resolve_device(device: str) -> torch.device:
    """``"auto"`` picks CUDA when available, else CPU; anything else is passed to ``torch.device``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def init_distributed(device: str = "auto") -> DistributedContext:
    """Join the process group that ``torchrun`` describes in the environment, if any."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext(0, 1, 0, resolve_device(device))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    chosen = resolve_device(device)
    if chosen.type == "cuda":
        chosen = torch.device("cuda", local_rank)
        torch.cuda.set_device(chosen)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if chosen.type == "cuda" else "gloo")
        # Left to interpreter teardown, a gloo group whose peer has already exited can abort the
        # process ("terminate called without an active exception"); tear it down first.
        atexit.register(_destroy_process_group)
    return DistributedContext(rank, world_size, local_rank, chosen)


def single_process_context(device: str = "auto", what: str = "this run") -> DistributedContext:
    """The context of a run that does not shard over processes; refuses a ``torchrun`` launch by name.

    Why refuse: N processes would each train their own copy and write the same files.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size > 1:
        raise RuntimeError(f"{what} runs in a single process; launch it without torchrun (WORLD_SIZE={world_size})")
    return DistributedContext(0, 1, 0, resolve_device(device))


def _destroy_process_group() -> None:
    """Tear the group down while the interpreter is alive, after every rank has reached this point.

    Why the barrier: a rank that destroys its gloo pairs while a peer is still finishing (rank 0
    writing its final files, say) can leave the peer's transport threads to abort it at exit.
    ``monitored_barrier`` is bounded, so a peer that died does not hold this process for long.
    """
    if not dist.is_initialized():
        return
    if dist.get_backend() == "gloo":
        with contextlib.suppress(RuntimeError):  # a peer is gone: destroy our side anyway
            dist.monitored_barrier(timeout=datetime.timedelta(seconds=_EXIT_BARRIER_SECONDS))
    dist.destroy_process_group()


def is_main_process() -> bool:
    """Whether this process is rank 0 of a ``torchrun`` launch (or not launched by one).

    Read from the environment, so it holds before (and without) a process group: evaluation and
    printing run on rank 0 only.
    """
    return int(os.environ.get("RANK", "0")) == 0


def average_gradients(parameters) -> None:
    """All-reduce and average ``.grad`` of parameters that DDP does not manage (learned transforms).

    The LCI inpainter and its discriminator step their own optimisers outside the classifier's
    DDP wrapper; averaging their gradients keeps one network across ranks instead of N drifting
    copies. A no-op without a process group.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    world = dist.get_world_size()
    for parameter in parameters:
        if parameter.grad is not None:
            dist.all_reduce(parameter.grad, op=dist.ReduceOp.SUM)
            parameter.grad.div_(world)
