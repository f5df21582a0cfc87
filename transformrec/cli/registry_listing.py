"""One view over every registry, for ``transformrec list`` and documentation.

``transformrec list`` prints the built-in names from :data:`BUILT_IN`, a copy kept in this file so
that listing them does not import torch (seconds on a busy machine); ``tests/cli`` checks it against
the live registries, and ``python -m transformrec.cli.registry_listing`` rewrites it after a
component is added. :func:`live_registries` reads the registries themselves (plugins included).
"""

from __future__ import annotations

import pprint
import re
from pathlib import Path

BUILT_IN: dict[str, list[str]] = {
    # generated: python -m transformrec.cli.registry_listing
    "transforms": [
        "damage_repair",
        "flip",
        "identity",
        "lci",
        "periodic",
        "random_order",
        "rotation",
        "speed",
        "sync",
        "temporal_warp",
        "warp",
    ],
    "backbones": [
        "alexnet_bn",
        "c3d_small",
        "cifarnet",
        "preact_resnet18",
        "r2plus1d_18",
        "r3d_18",
        "resnet18",
        "resnet34",
        "resnet50",
        "siamese",
        "small_inception",
    ],
    "datasets": [
        "fashion_mnist",
        "fashion_on_noise",
        "image_folder",
        "multiview_folder",
        "multiview_poses",
        "noisy_labels",
        "pixel_permuted",
        "procedural",
        "torchvision",
        "upright_objects",
        "video_folder",
    ],
    "evaluations": [
        "finetune",
        "knn",
        "linear_probe",
        "pose3d",
        "video_action",
        "video_before_after",
        "video_finetune",
        "video_retrieval",
        "video_sync",
    ],
    "gan objectives": ["hinge", "least_squares", "minimax", "non_saturating", "wgan_gp"],
}


def live_registries(built_in_only: bool = False) -> dict[str, list[str]]:
    """Registered names by kind, read from the registries (imports every component, and torch);
    ``built_in_only``: leave out components registered by code outside this package (plugins)."""
    from transformrec.adversarial.objectives import list_gan_objectives
    from transformrec.backbones.registry import BACKBONES
    from transformrec.data.registry import DATASETS
    from transformrec.eval.registry import EVALUATIONS
    from transformrec.transforms.registry import TRANSFORMS

    def names(registry) -> list[str]:
        own = (n for n in registry.names() if registry.get(n).__module__.startswith("transformrec."))
        return list(own) if built_in_only else registry.names()

    return {
        "transforms": names(TRANSFORMS),
        "backbones": names(BACKBONES),
        "datasets": names(DATASETS),
        "evaluations": names(EVALUATIONS),
        "gan objectives": list_gan_objectives(),
    }


def all_registries() -> dict[str, list[str]]:
    """The built-in names by kind, without importing any component."""
    return BUILT_IN


def write_built_in(path: Path = Path(__file__)) -> None:
    """Rewrite :data:`BUILT_IN` in this file from the live registries."""
    text = path.read_text()
    body = pprint.pformat(live_registries(built_in_only=True), width=100, sort_dicts=False)[1:-1]
    lines = "\n".join(f"    {line.strip()}" for line in body.splitlines())
    header = "BUILT_IN: dict[str, list[str]] = {\n    # generated: python -m transformrec.cli.registry_listing\n"
    block = f"{header}{lines}\n}}"
    path.write_text(re.sub(r"BUILT_IN: dict\[str, list\[str\]\] = \{.*?\n\}", lambda _: block, text, flags=re.S))


if __name__ == "__main__":
    write_built_in()
