"""The transformation classifier C: a backbone plus one linear head per label space (eq. 4.1).

Dense heads (the mask head C^mask of ch. 3) add a 3×3 convolution on a backbone tap that
predicts one logit per cell of that feature map (sec. 3.3.4: "a single 3×3 convolutional layer
for the mask prediction").
"""

from __future__ import annotations

import torch
from torch import nn

from transformrec.backbones.base import TappedBackbone


def tap_channels(backbone: TappedBackbone, tap: str, example: torch.Tensor) -> int:
    """Channels of ``tap``'s feature map, from one forward pass of ``example`` in eval mode.

    Why a dry run: backbones do not declare per-tap channel counts, and heads must exist (with
    their parameters) before optimisers and checkpoints are built. BN statistics are untouched.
    """
    was_training = backbone.training
    backbone.eval()
    try:
        with torch.no_grad():
            feature = backbone.forward_taps(example, [tap])[tap]
    finally:
        backbone.train(was_training)
    if feature.dim() != 4:
        raise ValueError(f"dense heads need a spatial tap (B×C×H×W); {tap!r} gives shape {tuple(feature.shape)}")
    return feature.shape[1]


class PretextModel(nn.Module):
    """Backbone features → ``{head: logits}``; heads are sized by the TransformSet's label spaces.

    The final linear layers are the only part without batch normalisation (sec. 4.4: "batch
    normalization to all layers except for the final one"). ``dense_heads`` maps a head name to
    the backbone tap it reads; its logits are ``B×h×w`` (one per cell of the tap). ``example``
    (one input batch) is needed to size the dense heads.
    """

    def __init__(
        self,
        backbone: TappedBackbone,
        num_classes: dict[str, int],
        dense_heads: dict[str, str] | None = None,
        example: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.heads = nn.ModuleDict({head: nn.Linear(backbone.feature_dim, n) for head, n in num_classes.items()})
        self.dense_taps = dict(dense_heads or {})
        if self.dense_taps and example is None:
            raise ValueError("dense heads need an example input to find their tap's channel count")
        self.dense_heads = nn.ModuleDict(
            {
                head: nn.Conv2d(tap_channels(backbone, tap, example), 1, 3, padding=1)
                for head, tap in self.dense_taps.items()
            }
        )

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if not self.dense_taps:
            features = self.backbone(x)
            return {head: layer(features) for head, layer in self.heads.items()}
        last = self.backbone.tap_names[-1]
        taps = self.backbone.forward_taps(x, [*dict.fromkeys([*self.dense_taps.values(), last])])
        features = taps[last].flatten(1)
        logits = {head: layer(features) for head, layer in self.heads.items()}
        for head, layer in self.dense_heads.items():
            logits[head] = layer(taps[self.dense_taps[head]])[:, 0]
        return logits
