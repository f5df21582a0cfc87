import torch
from torch.utils.data import Dataset

from transformrec.backbones.base import TappedBackbone


class TinyImages(Dataset):
    """Fixed random images with an upright cue (a bright top row), so rotations are learnable."""

    def __init__(self, n: int = 64, size: int = 16, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.images = torch.rand(n, 1, size, size, generator=g) * 0.5
        self.images[:, :, :2, :] = 1.0
        self.labels = torch.zeros(n, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.images[index], 0


class TinyNet(TappedBackbone):
    """Two conv taps and a small vector: fast enough for many optimisation steps in a test."""

    tap_names = ("conv1", "conv2", "pool")
    feature_dim = 16

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU())
        self.conv2 = torch.nn.Sequential(torch.nn.Conv2d(8, 16, 3, stride=2, padding=1), torch.nn.ReLU())
        self.fc = torch.nn.Linear(16 * 8 * 8, 16)

    def forward_taps(self, x, taps):
        out = {}
        x = self.conv1(x)
        out["conv1"] = x
        x = self.conv2(x)
        out["conv2"] = x
        out["pool"] = self.fc(x.flatten(1))
        return {t: out[t] for t in taps}


class TinyPlainNet(TappedBackbone):
    """TinyNet without BatchNorm: its output for a sample does not depend on the rest of the batch,
    so a run sharded over processes can be compared with one process exactly."""

    tap_names = ("conv1", "pool")
    feature_dim = 16

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, stride=2, padding=1), torch.nn.ReLU())
        self.fc = torch.nn.Linear(8 * 8 * 8, 16)

    def forward_taps(self, x, taps):
        out = {"conv1": self.conv1(x)}
        out["pool"] = self.fc(out["conv1"].flatten(1))
        return {t: out[t] for t in taps}


QUIET = {"device": "cpu", "progress": False, "tensorboard": False}
"""Trainer options of every test run: CPU, no progress bar, CSV logs only."""


def interrupted_and_resumed(make_trainer, tmp_path, cut_at: int):
    """An uninterrupted run, and one stopped after ``cut_at`` steps (checkpoint every step) then resumed.

    ``make_trainer(out, **options)`` builds a fresh Trainer writing to ``out``. Returns both
    trainers after training; the resumed one must say where it resumed from.
    """
    full = make_trainer(tmp_path / "full")
    full.fit()
    make_trainer(tmp_path / "cut", max_steps=cut_at, checkpoint_every=1).fit()
    resumed = make_trainer(tmp_path / "cut", resume=True)
    assert resumed.fit()["resumed_from_step"] == cut_at
    for name, tensor in full.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name
    return full, resumed
