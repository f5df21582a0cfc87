"""What the audit measured, the flags it raises, and its table / JSON forms.

Two checks of sec. 4.3. *Shortcut risk*: a transformation the patch classifier recognises
from ``k × k`` patches can be solved by local statistics (the CelebA eyes of fig. 4.5, the
inpainting artifacts of sec. 4.2.4), so the features need not be global. *Ambiguity*: two
classes that even the whole-image classifier cannot tell apart make the task ill-posed
("a transformed global patch should be different from any other global patch transformed
with a different transformation").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch

REFERENCE_CLASS = "identity"
"""The untransformed class: it is recognisable exactly when the others are, so it is never flagged itself."""


def confusion_matrix(logits: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts ``C[true, predicted]`` of the arg-max predictions."""
    pairs = labels.long() * num_classes + logits.argmax(-1)
    return torch.bincount(pairs, minlength=num_classes * num_classes).view(num_classes, num_classes)


def pairwise_separability(logits: torch.Tensor, labels: torch.Tensor, num_classes: int) -> list[list[float | None]]:
    """Accuracy of telling class i from class j using only the two logits, on samples of i or j.

    0.5 is chance: the classifier cannot separate the pair at all. The diagonal is ``None``.
    """
    table: list[list[float | None]] = [[None] * num_classes for _ in range(num_classes)]
    for i in range(num_classes):
        for j in range(i + 1, num_classes):
            members = (labels == i) | (labels == j)
            if not bool(members.any()):
                continue
            says_i = logits[members, i] > logits[members, j]
            accuracy = float((says_i == (labels[members] == i)).float().mean())
            table[i][j] = table[j][i] = accuracy
    return table


def recall(confusion: torch.Tensor) -> list[float]:
    """Per-class accuracy (diagonal over row sums) of a confusion matrix."""
    return (confusion.diag().float() / confusion.sum(1).clamp(min=1).float()).tolist()


SHORTCUT_THRESHOLD = 0.8
"""A class recognised from small patches with held-out accuracy at or above this is a shortcut risk.

One constant for ``transformrec audit`` and the benchmark gates (``benchmarks/lci_tables.py`` passes
a transform whose 8×8-patch separability from identity stays at or below it): at 0.9 the audit let
rotations recognised from patches at 0.88–0.90 through."""
CONFUSABLE_THRESHOLD = 0.75
"""Two classes the whole-image probe separates below this are ambiguous (0.5 is chance)."""


@dataclass
class AuditReport:
    """Held-out accuracies of the local (patch) and global (whole-image) classifiers, and flags."""

    head: str
    classes: list[str]
    image_size: list[int]
    patch_size: int
    num_images: int
    local_recall: list[float]
    global_recall: list[float]
    local_confusion: list[list[int]]
    global_confusion: list[list[int]]
    local_pairwise: list[list[float | None]]
    global_pairwise: list[list[float | None]]
    local_threshold: float
    confusable_threshold: float
    locally_recognisable: list[str] = field(default_factory=list)
    confusable_pairs: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.locally_recognisable = [
            name
            for name, value in zip(self.classes, self.local_recall, strict=True)
            if name != REFERENCE_CLASS and value >= self.local_threshold
        ]
        self.confusable_pairs = [
            [self.classes[i], self.classes[j]]
            for i in range(len(self.classes))
            for j in range(i + 1, len(self.classes))
            if self.global_pairwise[i][j] is not None and self.global_pairwise[i][j] < self.confusable_threshold
        ]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_table(self) -> str:
        """A plain-text report: per-class accuracies, pairwise separability, then the flags."""
        name_width = max(len(c) for c in self.classes) + 2
        lines = [
            f"Transform audit of head {self.head!r}: {self.num_images} images of {self.image_size}, "
            f"local classifier on {self.patch_size}x{self.patch_size} patches",
            "",
            f"{'class':<{name_width}}{'local acc':>10}{'global acc':>12}  flag",
        ]
        for name, local, whole in zip(self.classes, self.local_recall, self.global_recall, strict=True):
            flag = "shortcut risk: recognisable from patches" if name in self.locally_recognisable else ""
            lines.append(f"{name:<{name_width}}{local:>10.3f}{whole:>12.3f}  {flag}".rstrip())
        lines += ["", "pairwise separability, global / local (0.5 = indistinguishable):"]
        cell = 13
        lines.append(" " * name_width + "".join(f"{c:>{cell}}" for c in self.classes))
        for i, name in enumerate(self.classes):
            cells = []
            for j in range(len(self.classes)):
                whole, local = self.global_pairwise[i][j], self.local_pairwise[i][j]
                cells.append(f"{'-':>{cell}}" if whole is None else f"{f'{whole:.2f}/{local:.2f}':>{cell}}")
            lines.append(f"{name:<{name_width}}" + "".join(cells))
        lines.append("")
        if self.locally_recognisable:
            lines.append(
                f"SHORTCUT RISK: {', '.join(self.locally_recognisable)} recognised from local patches with "
                f"accuracy >= {self.local_threshold}"
            )
        if self.confusable_pairs:
            pairs = ", ".join(f"{a} ~ {b}" for a, b in self.confusable_pairs)
            lines.append(f"AMBIGUOUS: {pairs} (global pairwise separability < {self.confusable_threshold})")
        if not (self.locally_recognisable or self.confusable_pairs):
            lines.append("no flags: every class needs more than local patches, and every pair is separable")
        return "\n".join(lines)
