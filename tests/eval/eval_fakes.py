"""Shared test double for the evaluation tests: a dataset of the library's shape."""

import torch
from torch.utils.data import Dataset


class TensorSet(Dataset):
    """Minimal dataset of the library's shape: ``(image, int label)``, ``labels``, ``num_classes``."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> None:
        self.images, self.labels, self.num_classes = images, labels.long(), num_classes

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])
