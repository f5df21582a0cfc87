"""Global-batch replay: N processes under ``torchrun`` draw exactly the randomness of one process.

Why: each rank loads its own shard of the global batch. If each rank drew crops, flips, classes
(``mode="sample"``) and transform parameters from its own generator, an N-process run would
train on different samples than one process with the same global batch, so the two would not
be comparable. Instead every rank

1. all-gathers the real images of the global batch (in global order: rank r's shard is the
   r-th slice, see :class:`~transformrec.training.sampler.EpochBatchSampler`),
2. augments and transforms the *whole* global batch with the shared generator (seeded the
   same on every rank, so all ranks draw identical parameters), and
3. keeps only the transformed samples whose source image belongs to its own shard.

The classifier's forward and backward pass, the dominant cost, stays sharded; the augmentation
and transforms are repeated on every rank. That is the price of keeping the Transform contract
(``apply(batch, variant, generator)`` samples and applies in one call) unchanged.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from transformrec.runtime.distributed import DistributedContext


def gather_global_batch(shard: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """Concatenate every rank's shard in rank order; the shard itself without a process group."""
    if not context.enabled:
        return shard
    parts = [torch.empty_like(shard) for _ in range(context.world_size)]
    dist.all_gather(parts, shard.contiguous())
    return torch.cat(parts)


def own_slice(global_batch: int, context: DistributedContext) -> slice:
    """The positions of this rank's source images inside the global batch."""
    local = global_batch // context.world_size
    return slice(context.rank * local, (context.rank + 1) * local)


def take_own_samples(samples: torch.Tensor, global_batch: int, context: DistributedContext) -> torch.Tensor:
    """This rank's part of transformed samples laid out as groups of ``global_batch`` source images.

    A TransformSet returns ``K × B`` samples ordered class-major in ``mode="all"`` (K groups)
    and ``B`` samples in ``mode="sample"`` (one group); within a group sample b comes from
    source image b. Every rank keeps, in every group, the samples of its own source images,
    so each rank sees all classes of its images and the union over ranks is the global batch.
    """
    if not context.enabled:
        return samples
    total = samples.shape[0]
    if total % global_batch:
        raise ValueError(f"cannot shard {total} transformed samples: not a multiple of the global batch {global_batch}")
    grouped = samples.reshape(total // global_batch, global_batch, *samples.shape[1:])
    return grouped[:, own_slice(global_batch, context)].reshape(-1, *samples.shape[1:])
