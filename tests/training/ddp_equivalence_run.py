"""One training run for the scale-out equivalence test, in one process or under ``torchrun``.

``python ddp_equivalence_run.py OUT MODE`` trains a BN-free TinyPlainNet on TinyImages with
augmentation, a random warp and a learned transform, logging every step to ``OUT/metrics.csv``
and, on rank 0, saving the final classifier and learned-transform weights to ``OUT/final.pt``.
"""

import sys

import torch
from conftest import TinyImages, TinyPlainNet

from transformrec.runtime.distributed import average_gradients
from transformrec.training import Trainer
from transformrec.transforms import Identity, LearnedTransform, RandomCropFlip, Rotation, TransformSet, Warp


class LearnedShift(LearnedTransform):
    """Adds a learned brightness shift; its own loss is a batch mean, its gradients are averaged."""

    def __init__(self) -> None:
        super().__init__()
        self.shift = torch.nn.Parameter(torch.zeros(()))
        self.opt = torch.optim.Adam(self.parameters(), lr=0.05)

    def variant_names(self):
        return ("shift",)

    def apply(self, batch, variant, generator=None):
        return batch + self.shift.detach(), {}

    def optimizers(self):
        return {"opt": self.opt}

    def update(self, real_batch, classifier):
        loss = ((real_batch + self.shift).mean(dim=(1, 2, 3)) - 0.2).pow(2).mean()
        self.opt.zero_grad()
        loss.backward()
        average_gradients(self.parameters())
        self.opt.step()
        return {"shift": float(self.shift.detach())}


def main(out: str, mode: str) -> None:
    torch.manual_seed(0)
    shift = LearnedShift()
    trainer = Trainer(
        transforms=TransformSet([Identity(), Rotation(), Warp(), shift], mode=mode),
        backbone=TinyPlainNet(),
        data=TinyImages(n=48),
        epochs=2,
        batch_size=8,
        lr=3e-3,
        augment=RandomCropFlip(padding=2),
        device="cpu",
        output_dir=out,
        log_every=1,
        progress=False,
        tensorboard=False,
        checkpoint_every=None,
    )
    trainer.fit()
    if trainer.context.is_main:
        torch.save({"model": trainer.model.state_dict(), "shift": shift.shift.detach()}, f"{out}/final.pt")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
