"""Two-process multi-view (sync + flip) training for the scale-out test: every rank saves its classifier.

``python -m torch.distributed.run --nproc_per_node 2 ddp_multiview_run.py ROOT OUT`` writes
``OUT/rank<r>.pt`` with the model's state and the number of steps taken.
"""

import sys

import torch
import torch.distributed as dist
from conftest import QUIET

from transformrec.backbones import build_backbone
from transformrec.data.multiview_folder import MultiViewFolder
from transformrec.training import Trainer


def main(root: str, out: str) -> None:
    torch.manual_seed(0)
    trainer = Trainer(
        transforms=["sync", "flip"],
        backbone=build_backbone("siamese", trunk="resnet18"),
        data=MultiViewFolder(root, subjects=["S1"], actions=["walk"], background="remove"),
        epochs=1,
        batch_size=4,
        **QUIET,
    )
    trainer.fit()
    rank = dist.get_rank() if dist.is_initialized() else 0
    state = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    torch.save({"model": state, "steps": trainer.step, "samples": len(trainer.data)}, f"{out}/rank{rank}.pt")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
