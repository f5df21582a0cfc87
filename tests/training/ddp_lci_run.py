"""Two-process LCI training for the scale-out test: every rank saves its inpainter and discriminator.

``python -m torch.distributed.run --nproc_per_node 2 ddp_lci_run.py OUT`` writes ``OUT/rank<r>.pt``.
"""

import sys

import torch
import torch.distributed as dist
from conftest import TinyImages, TinyPlainNet

from transformrec.training import Trainer
from transformrec.transforms import Identity, LimitedContextInpainting, Rotation


def main(out: str) -> None:
    torch.manual_seed(0)
    lci = LimitedContextInpainting(channels=1, width=4, patch_size=0.5)
    trainer = Trainer(
        transforms=[Identity(), Rotation(), lci],
        backbone=TinyPlainNet(),
        data=TinyImages(n=32),
        epochs=1,
        batch_size=8,
        device="cpu",
        progress=False,
        tensorboard=False,
    )
    trainer.fit()
    rank = dist.get_rank() if dist.is_initialized() else 0
    torch.save({k: v.clone() for k, v in lci.state_dict().items()}, f"{out}/rank{rank}.pt")


if __name__ == "__main__":
    main(sys.argv[1])
