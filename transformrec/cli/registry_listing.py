"""One view over every registry, for ``transformrec list`` and documentation."""

from __future__ import annotations

from transformrec.adversarial.objectives import list_gan_objectives
from transformrec.backbones.registry import list_backbones
from transformrec.data.registry import list_datasets
from transformrec.eval.registry import list_evaluations
from transformrec.transforms.registry import list_transforms


def all_registries() -> dict[str, list[str]]:
    """Registered names by kind."""
    return {
        "transforms": list_transforms(),
        "backbones": list_backbones(),
        "datasets": list_datasets(),
        "evaluations": list_evaluations(),
        "gan objectives": list_gan_objectives(),
    }
