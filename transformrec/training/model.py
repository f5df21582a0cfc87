"""The transformation classifier C: a backbone plus one linear head per label space (eq. 4.1)."""

from __future__ import annotations

import torch
from torch import nn

from transformrec.backbones.base import TappedBackbone


class PretextModel(nn.Module):
    """Backbone features → ``{head: logits}``; heads are sized by the TransformSet's label spaces.

    The final linear layers are the only part without batch normalisation (sec. 4.4: "batch
    normalization to all layers except for the final one").
    """

    def __init__(self, backbone: TappedBackbone, num_classes: dict[str, int]) -> None:
        super().__init__()
        self.backbone = backbone
        self.heads = nn.ModuleDict({head: nn.Linear(backbone.feature_dim, n) for head, n in num_classes.items()})

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.backbone(x)
        return {head: layer(features) for head, layer in self.heads.items()}
