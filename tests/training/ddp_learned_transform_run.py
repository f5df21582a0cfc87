"""Two-process training with a learned transform for the scale-out tests; every rank saves its state.

``python -m torch.distributed.run --nproc_per_node 2 ddp_learned_transform_run.py lci|damage_repair OUT``
writes ``OUT/rank<r>.pt`` with the learned transform's state_dict.
"""

import sys

import torch
import torch.distributed as dist
from conftest import QUIET, TinyImages, TinyNet, TinyPlainNet

from transformrec.training import Trainer
from transformrec.transforms import DamageRepair, Identity, LimitedContextInpainting, Rotation


def _task(name: str):
    """(transforms, backbone) of the pretext task around the learned transform ``name``."""
    if name == "lci":
        learned = LimitedContextInpainting(channels=1, width=4, patch_size=0.5)
        return learned, [Identity(), Rotation(), learned], TinyPlainNet()
    learned = DamageRepair(channels=1, width=4, drop_rate=0.5, pretrain_steps=3, history_size=16, mask_tap="conv2")
    return learned, [learned], TinyNet()


def main(name: str, out: str) -> None:
    torch.manual_seed(0)
    learned, transforms, backbone = _task(name)
    trainer = Trainer(
        transforms=transforms,
        backbone=backbone,
        data=TinyImages(n=32),
        epochs=1,
        batch_size=8,
        **QUIET,
    )
    trainer.fit()
    rank = dist.get_rank() if dist.is_initialized() else 0
    torch.save({k: v.clone() for k, v in learned.state_dict().items()}, f"{out}/rank{rank}.pt")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
