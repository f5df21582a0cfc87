"""The contract every backbone honours: a feature vector for the heads, and named taps.

Why taps: the thesis evaluates every layer (tables 4.2, 4.5, 4.6 report conv1…conv5), so
evaluation code must be able to read any intermediate feature map by name without knowing
the architecture.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class TappedBackbone(nn.Module):
    """Base class: subclasses set ``tap_names`` (in forward order) and ``feature_dim``.

    Subclasses implement :meth:`forward_taps`; :meth:`forward` returns the last tap flattened,
    which is the representation the pretext heads (and linear evaluation heads) consume.
    """

    registry_spec: dict | None = None
    """``{"name", "params"}`` when built by name (:func:`~transformrec.backbones.registry.build_backbone`):
    how an export rebuilds it."""

    tap_names: tuple[str, ...] = ()
    feature_dim: int = 0

    def forward_taps(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        """Return the activations named in ``taps`` (feature maps ``B×C×H×W`` or vectors ``B×D``)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = self.tap_names[-1]
        return self.forward_taps(x, [last])[last].flatten(1)

    def check_taps(self, taps: Sequence[str]) -> None:
        """Raise a clear error when a requested tap does not exist."""
        unknown = [t for t in taps if t not in self.tap_names]
        if unknown:
            raise KeyError(f"unknown taps {unknown} for {type(self).__name__}; available: {list(self.tap_names)}")


class StagedBackbone(TappedBackbone):
    """A backbone that is a chain of stages, one per tap (``self.stages``, keyed by tap name).

    Why: :meth:`forward_taps` can then stop after the last requested tap, and the forward pass
    has no data-dependent control flow, so ``torch.func`` transforms (``vmap``) run through it.
    """

    stages: nn.ModuleDict

    def run_stage(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """The stage that maps the previous tap (or the input) to tap ``name``."""
        return self.stages[name](x)

    def forward_taps(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        """Run the stages up to the last requested tap only (cheap per-layer evaluation, tables 4.2-4.6)."""
        self.check_taps(taps)
        last = max(self.tap_names.index(t) for t in taps) if taps else -1
        found: dict[str, torch.Tensor] = {}
        for name in self.tap_names[: last + 1]:
            x = self.run_stage(name, x)
            found[name] = x
        return {t: found[t] for t in taps}
