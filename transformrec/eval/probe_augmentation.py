"""Random-crop + flip views of the probe's training images, drawn once and reused every epoch.

Why: the thesis trains its linear classifiers "on randomly cropped" images (sec. 4.4, 500–900
epochs). Re-running the frozen backbone every epoch is what makes that expensive; drawing a fixed
number of augmented views per image once, extracting their features once, and training the
logistic regression on all of them keeps the protocol's regulariser at a known, bounded cost.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch.utils.data import Dataset

from transformrec.data.item_seeding import fmix32


def random_crop_flip(image: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """A ``C×H×W`` image reflect-padded by ``padding``, cropped back to ``H×W`` at a uniform offset, flipped 50 %."""
    height, width = image.shape[-2:]
    padded = F.pad(image.unsqueeze(0), (padding,) * 4, mode="reflect")[0] if padding else image
    top = int(torch.randint(2 * padding + 1, (1,), generator=generator))
    left = int(torch.randint(2 * padding + 1, (1,), generator=generator))
    view = padded[:, top : top + height, left : left + width]
    if bool(torch.rand(1, generator=generator) < 0.5):
        view = view.flip(-1)
    return view


class AugmentedViews(Dataset):
    """``dataset`` followed by ``views`` random crop + flip copies of every item (view 0 is the item itself).

    View ``k`` of item ``i`` is a pure function of ``(seed, i, k)``, so a probe's training set is
    reproducible; ``padding`` defaults to 1/8 of the image side (4 px at 32 px, as in CIFAR practice).
    """

    def __init__(self, dataset: Dataset, views: int, seed: int = 0, padding: int | None = None) -> None:
        if views < 0:
            raise ValueError(f"augment_views must be >= 0, got {views}")
        self.dataset = dataset
        self.views = views
        self.seed = seed
        self.padding = padding
        self.num_classes = getattr(dataset, "num_classes", None)
        base_labels = getattr(dataset, "labels", None)
        self.labels = None if base_labels is None else torch.as_tensor(base_labels).repeat(views + 1)

    def __len__(self) -> int:
        return len(self.dataset) * (self.views + 1)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        count = len(self.dataset)  # type: ignore[arg-type]
        view, item = divmod(int(index), count)
        image, label = self.dataset[item]
        if view == 0:
            return image, label
        padding = self.padding if self.padding is not None else max(1, image.shape[-1] // 8)
        generator = torch.Generator().manual_seed(fmix32(fmix32(self.seed * 7919 + item) + view))
        return random_crop_flip(torch.as_tensor(image), padding, generator), label
