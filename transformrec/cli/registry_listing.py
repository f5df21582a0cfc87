"""One view over every registry, for ``transformrec list`` and documentation.

``transformrec list`` prints the built-in names from the component index
(``transformrec/component_index.py``), so that listing them does not import torch (seconds on a
busy machine); :func:`live_registries` reads the registries themselves (plugins included).
"""

from __future__ import annotations


def live_registries(built_in_only: bool = False) -> dict[str, list[str]]:
    """Registered names by kind, read from the registries (imports every component, and torch);
    ``built_in_only``: leave out components registered by code outside this package (plugins)."""
    from transformrec.adversarial.objectives import list_gan_objectives
    from transformrec.backbones.registry import BACKBONES
    from transformrec.component_index import is_built_in
    from transformrec.data.registry import DATASETS
    from transformrec.eval.registry import EVALUATIONS
    from transformrec.transforms.registry import TRANSFORMS

    def names(registry) -> list[str]:
        own = (n for n in registry.names() if is_built_in(registry.get(n)))
        return list(own) if built_in_only else registry.names()

    return {
        "transforms": names(TRANSFORMS),
        "backbones": names(BACKBONES),
        "datasets": names(DATASETS),
        "evaluations": names(EVALUATIONS),
        "gan objectives": list_gan_objectives(),
    }


def all_registries() -> dict[str, list[str]]:
    """The built-in names by kind, from the component index (no component is imported)."""
    from transformrec.component_index import INDEX

    titles = {"transform": "transforms", "backbone": "backbones", "dataset": "datasets"}
    titles.update({"evaluation": "evaluations", "gan objective": "gan objectives"})
    return {titles[kind]: sorted(names) for kind, names in INDEX.items()}
