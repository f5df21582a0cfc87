"""Registry of dataset factories (``build_dataset("fashion_mnist", split="train")``).

Every registered dataset yields ``(image, label)`` with ``image`` a float tensor ``C×H×W`` in
[0, 1] of a fixed size and ``label`` an int (``-1`` where the data set has no labels), so the
trainer can batch them and apply transforms on the batch's device.
"""

from __future__ import annotations

from typing import Any

from torch.utils.data import Dataset

from transformrec.registry import Registry

DATASETS: Registry[Dataset] = Registry("dataset")
register_dataset = DATASETS.register


def build_dataset(name: str, **kwargs: Any) -> Dataset:
    """Build the dataset registered as ``name``."""
    return DATASETS.build(name, **kwargs)


def list_datasets() -> list[str]:
    """Names of all registered datasets."""
    return DATASETS.names()
