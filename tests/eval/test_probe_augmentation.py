"""Random crop + flip views for the probe: shapes, content from the padded image, determinism."""

import torch
from torch.utils.data import TensorDataset

from transformrec.eval.probe_augmentation import AugmentedViews, random_crop_flip


def test_a_view_is_a_window_of_the_reflect_padded_image_possibly_mirrored():
    image = torch.arange(2 * 8 * 8, dtype=torch.float32).view(2, 8, 8)
    padded = torch.nn.functional.pad(image.unsqueeze(0), (2, 2, 2, 2), mode="reflect")[0]
    generator = torch.Generator().manual_seed(3)
    for _ in range(20):
        view = random_crop_flip(image, 2, generator)
        assert view.shape == image.shape
        windows = [padded[:, t : t + 8, s : s + 8] for t in range(5) for s in range(5)]
        assert any(torch.equal(view, w) or torch.equal(view, w.flip(-1)) for w in windows)


def test_views_are_deterministic_and_view_zero_is_the_item():
    images = torch.rand(5, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    base = TensorDataset(images, torch.arange(5))
    first, second = AugmentedViews(base, 2, seed=1), AugmentedViews(base, 2, seed=1)
    assert len(first) == 15
    assert torch.equal(first[3][0], images[3]) and first[3][1] == 3
    assert torch.equal(first[8][0], second[8][0]) and first[8][1] == 3  # view 1 of item 3
    assert not torch.equal(first[8][0], first[13][0])  # views 1 and 2 differ
