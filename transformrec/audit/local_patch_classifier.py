"""Probe classifiers with a bounded receptive field: the measuring instrument of the audit.

Why: sec. 4.3 asks for transformations that are "distinguishable only by observing large regions
of pixels". We measure that directly by training the same small convolutional classifier twice:
once on random ``k × k`` patches of the transformed images (it can only use local statistics, so
what it recognises is a shortcut risk) and once on whole images (what the task asks for).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from transformrec.runtime.progress import progress as progress_display


class PatchNet(nn.Module):
    """Strided 3×3 convolutions down to at most 4×4, then a linear layer over the flattened map.

    The flatten keeps *where* things are, so on whole images the classifier sees the global
    layout; on ``k × k`` patches its receptive field is the patch and nothing more.
    """

    def __init__(self, in_channels: int, size: int, num_classes: int, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU()]
        while size > 4:
            layers += [nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU()]
            size = (size + 1) // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width * size * size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


def random_patches(images: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """One ``size × size`` crop per image at a uniformly random position (batched gather)."""
    batch, _, height, width = images.shape
    if not 0 < size <= min(height, width):
        raise ValueError(f"patch size must be in [1, {min(height, width)}], got {size}")
    top = torch.randint(height - size + 1, (batch,), generator=generator).to(images.device)
    left = torch.randint(width - size + 1, (batch,), generator=generator).to(images.device)
    offsets = torch.arange(size, device=images.device)
    rows = (top[:, None] + offsets)[:, None, :, None].expand(-1, images.shape[1], -1, width)
    picked = images.gather(2, rows)
    cols = (left[:, None] + offsets)[:, None, None, :].expand(-1, images.shape[1], size, -1)
    return picked.gather(3, cols)


def train_and_test(
    train_inputs: torch.Tensor,
    train_labels: torch.Tensor,
    test_inputs: torch.Tensor,
    test_labels: torch.Tensor,
    num_classes: int,
    patch_size: int | None,
    *,
    steps: int = 1000,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    progress: bool = False,
    desc: str = "probe",
) -> torch.Tensor:
    """Train a PatchNet and return its held-out logits (``N_test × num_classes``).

    ``patch_size=None`` classifies whole images; otherwise every training step draws fresh
    random patches, and the test patches are drawn once from a fixed seed. The budget is a
    number of steps, not epochs, so a small audit set still gets a converged probe.
    """
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    # Standardise per channel with training statistics: the probe should not have to learn the scale.
    mean = train_inputs.mean(dim=(0, 2, 3), keepdim=True)
    std = train_inputs.std(dim=(0, 2, 3), keepdim=True).clamp(min=1e-6)
    train_inputs, test_inputs = (train_inputs - mean) / std, (test_inputs - mean) / std
    size = patch_size or train_inputs.shape[-1]
    model = PatchNet(train_inputs.shape[1], size, num_classes).to(train_inputs.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    model.train()
    for _ in progress_display(range(steps), desc=desc, enabled=progress, leave=False):
        index = torch.randint(len(train_inputs), (batch_size,), generator=generator).to(train_inputs.device)
        inputs = train_inputs[index]
        if patch_size is not None:
            inputs = random_patches(inputs, patch_size, generator)
        loss = F.cross_entropy(model(inputs), train_labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    model.eval()
    test_generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        chunks = []
        for start in range(0, len(test_inputs), 512):
            inputs = test_inputs[start : start + 512]
            if patch_size is not None:
                inputs = random_patches(inputs, patch_size, test_generator)
            chunks.append(model(inputs).float().cpu())
    return torch.cat(chunks)
