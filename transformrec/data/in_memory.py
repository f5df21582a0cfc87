"""A data set's first images and labels as two tensors, read in the fastest way it offers.

Why: GAN training and FID scoring sample thousands of random images per second from a few
thousand; holding them as one tensor beats a DataLoader over per-item conversions on a CPU.
Fashion-MNIST converts its uint8 array at once (``stacked``), the rendered sets render in blocks
(``render_batch``); any other data set is read through a DataLoader, with a progress bar.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from transformrec.runtime.progress import progress as progress_display


def stack_images(
    dataset: Dataset, count: int | None = None, batch_size: int = 256, progress: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``count`` items (all when None) as float ``N×C×H×W`` images in [0, 1] and long labels."""
    total = len(dataset)  # type: ignore[arg-type]
    count = total if count is None else min(count, total)
    if count == 0:
        raise ValueError(f"{type(dataset).__name__} has no images to stack")
    if hasattr(dataset, "stacked") and hasattr(dataset, "labels"):
        return dataset.stacked(count), torch.as_tensor(dataset.labels[:count], dtype=torch.long).clone()
    if hasattr(dataset, "render_batch"):
        images, labels = dataset.render_batch(range(count))
        return images, labels.long()
    loader = DataLoader(Subset(dataset, range(count)), batch_size=batch_size, shuffle=False)
    images, labels = [], []
    loading = progress_display(loader, desc=f"loading {type(dataset).__name__}", enabled=progress, leave=False)
    for batch, targets in loading:
        images.append(batch.float())
        labels.append(torch.as_tensor(targets, dtype=torch.long))
    return torch.cat(images), torch.cat(labels)
