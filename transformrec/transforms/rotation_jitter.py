"""Small random rotations of some classes' samples after they are transformed (the authors' LCI code).

Why: a pretext class that resamples the image (LCI's inpainted patch, the warp's bilinear
interpolation) is otherwise the only class with resampling blur, so a classifier can tell it from
8×8 patches without looking at the object (measured here: identity vs LCI 0.86, identity vs warp
0.73 patch separability). The authors' LCI code rotates half of the identity, LCI and warp images
by a small random angle (±12.6°) after pasting, so blur appears in every one of those classes and
stops being a label. Rotation classes are left alone: their 90° turns are exact.

Rotated images sample bilinearly with border padding (no black corners, which would be a cue of
their own); the authors crop 80 → 64 px afterwards instead, which needs larger source images.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from transformrec.functional.similarity import similarity_warp

AUTHORS_CLASSES = ("identity", "lci", "warp")
AUTHORS_DEGREES = 12.6


class RotationJitter:
    """Rotate a ``share`` of the samples whose class is in ``classes`` by an angle uniform in ±``degrees``.

    Draws come from the generator the TransformSet is given (after every transform has drawn), so
    a seed replays the batch.
    """

    def __init__(
        self, degrees: float = AUTHORS_DEGREES, share: float = 0.5, classes: Sequence[str] = AUTHORS_CLASSES
    ) -> None:
        if not 0.0 < degrees <= 45.0:
            raise ValueError(f"rotation_jitter degrees must lie in (0, 45], got {degrees}")
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"rotation_jitter share must lie in [0, 1], got {share}")
        if not classes:
            raise ValueError("rotation_jitter classes must name at least one class")
        self.degrees, self.share, self.classes = float(degrees), float(share), tuple(classes)

    def check_classes(self, known: Sequence[str]) -> None:
        """Refuse a jitter none of whose classes the TransformSet has (it would do nothing)."""
        if not set(self.classes) & set(known):
            raise ValueError(
                f"rotation_jitter classes {list(self.classes)} name none of the transform set's classes {list(known)}"
            )

    def __call__(
        self, samples: torch.Tensor, class_names: Sequence[str], generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``samples`` (S×C×H×W) with the chosen ones rotated; ``class_names[i]`` is sample i's class."""
        count = samples.shape[0]
        chosen = torch.rand(count, generator=generator, dtype=torch.float64) < self.share
        angles = math.radians(self.degrees) * (2 * torch.rand(count, generator=generator, dtype=torch.float64) - 1)
        eligible = torch.tensor([name in self.classes for name in class_names], dtype=torch.bool)
        rotate = (chosen & eligible).nonzero().flatten()
        if rotate.numel() == 0:
            return samples
        out = samples.clone()
        device = samples.device
        index = rotate.to(device)
        ones = torch.ones(rotate.numel(), dtype=torch.float64, device=device)
        no_shift = torch.zeros(rotate.numel(), 2, dtype=torch.float64, device=device)
        out[index] = similarity_warp(samples[index], ones, angles[rotate].to(device), no_shift).to(samples.dtype)
        return out

    def __repr__(self) -> str:
        return f"RotationJitter(degrees={self.degrees}, share={self.share}, classes={list(self.classes)})"
