"""``transformrec show``: a picture of what every class of a TransformSet does to real images.

Rows are images from the config's dataset; columns are the classes of the label space
(identity, rot90, …, warp, lci), each produced by the very code the trainer runs. Learned
transforms are shown as trained when a checkpoint is given.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torchvision.utils import save_image

from transformrec.config.build import build_data, build_transform_set
from transformrec.config.schema import ExperimentConfig
from transformrec.training.checkpoint import load_checkpoint


def render_transform_grid(
    config: ExperimentConfig,
    out: str | Path,
    num_images: int = 6,
    seed: int = 0,
    checkpoint: str | Path | None = None,
) -> Path:
    """Save a PNG grid (``num_images`` rows × one column per class); returns its path.

    Learned transforms (LCI) only look like the thesis's figures once trained: pass a training
    ``checkpoint`` to load their networks from it.
    """
    dataset = build_data(config.data)
    transform_set = build_transform_set(config, dataset)
    if checkpoint is not None:
        learned_states = load_checkpoint(checkpoint)["learned"]
        for learned, state in zip(transform_set.learned_transforms, learned_states, strict=True):
            learned.load_checkpoint_state(state)
    transform_set.mode = "all"
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randperm(len(dataset), generator=generator)[:num_images].tolist()
    images = torch.stack([dataset[i][0] for i in picks])
    outputs, _ = transform_set(images, generator)
    columns = len(transform_set)
    # class-major → image-major so each row shows one image under every class
    grid = outputs.view(columns, num_images, *images.shape[1:]).transpose(0, 1).reshape(-1, *images.shape[1:])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid.clamp(0, 1), out, nrow=columns, padding=2, pad_value=1.0)
    names = ", ".join(slot.name for slot in transform_set.slots)
    out.with_suffix(".txt").write_text(f"columns: {names}\n")
    return out
