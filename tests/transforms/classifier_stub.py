"""A small transformation classifier C for learned-transform tests (LCI, damage & repair)."""

from torch import nn


class DictClassifier(nn.Module):
    """A small C with BatchNorm, returning ``{"transform": logits}`` like the trainer's PretextModel.

    The BatchNorm is there so tests can check that a learned transform's step leaves C's running
    statistics untouched.
    """

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()
        )
        self.head = nn.Linear(16, classes)

    def forward(self, x):
        return {"transform": self.head(self.net(x))}
