"""Two-process damage & repair training for the scale-out test: every rank saves its transform's state.

``python -m torch.distributed.run --nproc_per_node 2 ddp_damage_repair_run.py OUT`` writes ``OUT/rank<r>.pt``.
"""

import sys

import torch
import torch.distributed as dist
from conftest import TinyImages, TinyNet

from transformrec.training import Trainer
from transformrec.transforms import DamageRepair


def main(out: str) -> None:
    torch.manual_seed(0)
    damage_repair = DamageRepair(
        channels=1, width=4, drop_rate=0.5, pretrain_steps=3, history_size=16, mask_tap="conv2"
    )
    trainer = Trainer(
        transforms=[damage_repair],
        backbone=TinyNet(),
        data=TinyImages(n=32),
        epochs=1,
        batch_size=8,
        device="cpu",
        progress=False,
        tensorboard=False,
    )
    trainer.fit()
    rank = dist.get_rank() if dist.is_initialized() else 0
    torch.save({k: v.clone() for k, v in damage_repair.state_dict().items()}, f"{out}/rank{rank}.pt")


if __name__ == "__main__":
    main(sys.argv[1])
