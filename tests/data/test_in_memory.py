"""stack_images: the first items of any data set as one float tensor and one label tensor."""

import pytest
import torch
from torch.utils.data import Dataset

from transformrec.data.in_memory import stack_images


class Plain(Dataset):
    """Item i is a 1×2×2 uint8 image filled with i, labelled i % 3 (no fast path)."""

    def __len__(self) -> int:
        return 10

    def __getitem__(self, index: int):
        return torch.full((1, 2, 2), index, dtype=torch.uint8), index % 3


def test_a_plain_data_set_is_read_in_order_through_a_loader():
    images, labels = stack_images(Plain(), count=7, batch_size=3)
    assert images.dtype == torch.float32 and images.shape == (7, 1, 2, 2)
    assert images[:, 0, 0, 0].tolist() == list(range(7))
    assert labels.tolist() == [i % 3 for i in range(7)]


def test_count_is_clipped_to_the_data_set():
    images, _ = stack_images(Plain(), count=100)
    assert len(images) == 10


def test_an_empty_request_is_refused():
    with pytest.raises(ValueError, match="no images"):
        stack_images(Plain(), count=0)
