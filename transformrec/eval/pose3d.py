"""Transfer to monocular 3D human pose regression (sec. 6.2.4, tables 6.1 and 6.2).

The pretrained trunk Φ (the Siamese network's shared ResNet) gets one linear layer ω_p that
regresses the 16 non-root joints, root-relative, in the camera's coordinates; targets are
normalised per joint and coordinate with the training set's mean and standard deviation, and
the network minimises the mean squared error L_pose = 1/N Σ ‖P(x) − y‖². The first three
residual stages are frozen (``freeze``; the stem with them), images and poses are mirrored
together at random (:func:`~transformrec.functional.skeleton.mirror_pose`), and training uses
AdamW (default betas) with weight decay 1e-4 and a cosine decay from 1e-4 to 1e-7, batches of 16
(sec. 6.3.1). Predictions are un-normalised and scored by MPJPE, NMPJPE and PMPJPE with the
17/16 correction (:mod:`transformrec.eval.pose_metrics`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from transformrec.backbones.base import TappedBackbone
from transformrec.eval.finetune import freeze_modules
from transformrec.eval.fitting import epochs_of, fit_epochs, gradient_step
from transformrec.eval.pose_metrics import pose_errors
from transformrec.eval.registry import register_evaluation
from transformrec.functional.skeleton import NUM_JOINTS, ROOT, mirror_pose
from transformrec.runtime.schedule import build_cosine_schedule

RESNET_FROZEN = ("conv1", "bn1", "layer1", "layer2", "layer3")
_NON_ROOT = [j for j in range(NUM_JOINTS) if j != ROOT]


class PoseRegressor(nn.Module):
    """Trunk features → 16 × 3 normalised joint coordinates (the root is fixed at zero)."""

    def __init__(self, trunk: TappedBackbone, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.trunk = trunk
        self.head = nn.Linear(trunk.feature_dim, 3 * len(_NON_ROOT))
        self.register_buffer("mean", mean.clone())  # 16×3
        self.register_buffer("std", std.clone())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Normalised predictions ``B×16×3``."""
        return self.head(self.trunk(images).flatten(1)).unflatten(1, (len(_NON_ROOT), 3))

    def normalise(self, poses: torch.Tensor) -> torch.Tensor:
        return (poses[:, _NON_ROOT] - self.mean) / self.std

    def poses(self, images: torch.Tensor) -> torch.Tensor:
        """Un-normalised root-relative poses ``B×17×3`` (mm), root at zero."""
        joints = self(images) * self.std + self.mean
        full = joints.new_zeros((joints.shape[0], NUM_JOINTS, 3))
        full[:, _NON_ROOT] = joints
        return full


def _all_poses(dataset: Dataset) -> torch.Tensor:
    if hasattr(dataset, "poses"):
        return dataset.poses()
    return torch.stack([dataset[i][1] for i in range(len(dataset))])


@torch.no_grad()
def predict_poses(model: PoseRegressor, dataset: Dataset, device: torch.device, batch_size: int = 64):
    """Predicted and true poses (``N×17×3`` each) of every item of ``dataset``."""
    model.eval()
    predicted, true = [], []
    for images, poses in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        predicted.append(model.poses(images.to(device)).cpu())
        true.append(poses)
    return torch.cat(predicted), torch.cat(true)


@register_evaluation("pose3d", run_inputs=("device", "seed", "progress"))
def pose3d_transfer(
    backbone: TappedBackbone,
    train_set: Dataset,
    test_set: Dataset,
    epochs: int = 10,
    batch_size: int = 16,
    lr: float = 1e-4,
    final_lr: float = 1e-7,
    weight_decay: float = 1e-4,
    freeze: Sequence[str] | None = None,
    hflip: bool = True,
    device: str | torch.device = "cpu",
    seed: int = 0,
    num_workers: int = 0,
    return_model: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Fine-tune a copy of the backbone's trunk with a linear pose head; MPJPE / NMPJPE / PMPJPE.

    ``train_set`` and ``test_set`` yield ``(image, pose 17×3)`` (e.g. ``multiview_poses``).
    ``freeze``: module-name prefixes kept fixed; None freezes the stem and the first three
    residual stages of a ResNet trunk (sec. 6.3.1) and nothing otherwise. A Siamese backbone
    contributes its trunk. Everything random is seeded by ``seed`` in a forked RNG; the caller's
    backbone is never modified. ``return_model`` adds the trained regressor under ``"model"``.
    """
    device = torch.device(device)
    trunk = copy.deepcopy(getattr(backbone, "trunk", backbone))
    if freeze is None:
        freeze = RESNET_FROZEN if hasattr(trunk, "layer4") else ()
    train_poses = _all_poses(train_set)[:, _NON_ROOT].double()
    mean = train_poses.mean(0).float()
    std = train_poses.std(0).clamp_min(1e-6).float()
    cuda_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        model = PoseRegressor(trunk, mean, std).to(device)
        frozen = freeze_modules(model.trunk, freeze)
        generator = torch.Generator().manual_seed(seed)
        loader = DataLoader(
            train_set,
            batch_size=batch_size,
            shuffle=True,
            drop_last=len(train_set) > batch_size,  # type: ignore[arg-type]
            num_workers=num_workers,
            generator=torch.Generator().manual_seed(seed),
        )
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=weight_decay)
        scheduler = build_cosine_schedule(optimizer, max(1, epochs * len(loader)), lr, final_lr)

        def update(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, int]:
            images, poses = batch
            if hflip:
                mirror = torch.rand(images.shape[0], generator=generator) < 0.5
                images = torch.where(mirror[:, None, None, None], images.flip(-1), images)
                poses = torch.where(mirror[:, None, None], mirror_pose(poses), poses)
            target = model.normalise(poses.to(device))
            loss = (model(images.to(device)) - target).pow(2).sum(dim=(1, 2)).mean()
            return gradient_step(optimizer, loss), images.shape[0]

        epoch_loss = fit_epochs(
            epochs_of(loader),
            update,
            epochs,
            scheduler=scheduler,
            model=model,
            frozen=frozen,  # frozen batch norms keep their statistics
            progress=progress,
            desc="pose fine-tune",
        )
        train_predicted, train_true = predict_poses(model, train_set, device)
        test_predicted, test_true = predict_poses(model, test_set, device)
    result: dict[str, Any] = {
        "test": pose_errors(test_predicted, test_true),
        "train": pose_errors(train_predicted, train_true),
        "epoch_loss": epoch_loss,
        "settings": {
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "final_lr": final_lr,
            "freeze": list(freeze),
            "hflip": hflip,
            "train_items": len(train_set),  # type: ignore[arg-type]
            "test_items": len(test_set),  # type: ignore[arg-type]
        },
    }
    if return_model:
        result["model"] = model
    return result
