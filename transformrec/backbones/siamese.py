"""The Siamese network of chapter 6: a shared trunk Φ on both views, then a feature fusion (sec. 6.2.3).

F_i(x) = ω_i(ReLU(Φ(x₁) ∘ Φ(x₂))), with Φ the global-average-pooled ResNet features and ∘ the
fusion of table 6.1 (h)-(k): ``mult`` Φ₁ ⊙ Φ₂ (the default, sec. 6.2.3), ``concat`` [Φ₁, Φ₂],
``add`` Φ₁ + Φ₂, ``diff`` Φ₁ − Φ₂; the ReLU of sec. 6.2.3 follows every fusion. It matters for
``diff``: a plain Φ₁ − Φ₂ is antisymmetric, so a linear head gives a pair and its swap opposite
logits and cannot learn labels that do not depend on the pair's (random) order, like sync and
flip. torchvision ResNets end in a ReLU, so their pooled features are non-negative and the ReLU
changes nothing after ``mult``, ``add`` and ``concat``; it matters for trunks with signed features.

The trunk is a child named ``trunk``, so the state_dict of ``siamese.trunk`` is the plain
trunk's (a torchvision ``state_dict`` for ``resnet*``). Single images (``B×C×H×W``) go through
the trunk only, which is what the transfer protocols use; pairs are ``B×2×C×H×W``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from transformrec.backbones.base import TappedBackbone
from transformrec.backbones.registry import build_backbone, register_backbone

FUSIONS = ("mult", "concat", "add", "diff")


def fuse(first: torch.Tensor, second: torch.Tensor, fusion: str) -> torch.Tensor:
    """Combine the features of the two views (table 6.1 (h)-(k)), then the ReLU of sec. 6.2.3."""
    if fusion == "mult":
        fused = first * second
    elif fusion == "concat":
        fused = torch.cat([first, second], dim=-1)
    elif fusion == "add":
        fused = first + second
    elif fusion == "diff":
        fused = first - second
    else:
        raise ValueError(f"unknown fusion {fusion!r}; known: {FUSIONS}")
    return torch.relu(fused)


class SiameseBackbone(TappedBackbone):
    """Shared ``trunk`` on both images of a pair, features fused by ``fusion``."""

    def __init__(self, trunk: TappedBackbone, fusion: str = "mult") -> None:
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {fusion!r}; known: {FUSIONS}")
        self.trunk, self.fusion = trunk, fusion
        self.tap_names = trunk.tap_names
        self.feature_dim = trunk.feature_dim * (2 if fusion == "concat" else 1)

    def forward_taps(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        """Taps of the trunk on single images."""
        return self.trunk.forward_taps(x, taps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:  # single images: the trunk's features
            return self.trunk(x)
        if x.dim() != 5 or x.shape[1] != 2:
            raise ValueError(f"Siamese input must be pairs B×2×C×H×W (or images B×C×H×W), got {tuple(x.shape)}")
        features = self.trunk(x.flatten(0, 1)).unflatten(0, (x.shape[0], 2))  # both views in one pass
        return fuse(features[:, 0], features[:, 1], self.fusion)


@register_backbone("siamese")
def siamese(trunk: str = "resnet18", fusion: str = "mult", **trunk_options: Any) -> SiameseBackbone:
    """A Siamese wrapper around the registered backbone ``trunk`` (options go to the trunk)."""
    return SiameseBackbone(build_backbone(trunk, **trunk_options), fusion)
