"""``audit_transform_set``: transform real images under every class, train the local and global probes.

The probes are trained on the images under test (the user's data, not a benchmark), because
whether a transformation has a local shortcut depends on the data distribution (sec. 4.3:
rotations are a fine task on scenes and a shortcut-prone one on aligned faces).
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from transformrec.audit.local_patch_classifier import train_and_test
from transformrec.audit.report import (
    CONFUSABLE_THRESHOLD,
    SHORTCUT_THRESHOLD,
    AuditReport,
    confusion_matrix,
    pairwise_separability,
    recall,
)
from transformrec.transforms.transform_set import TransformSet


def _load_images(data: Dataset, num_images: int, generator: torch.Generator) -> torch.Tensor:
    count = min(num_images, len(data))
    chosen = torch.randperm(len(data), generator=generator)[:count]
    return torch.stack([torch.as_tensor(data[int(i)][0]) for i in chosen]).float()


def audit_transform_set(
    transform_set: TransformSet,
    data: Dataset,
    *,
    head: str | None = None,
    num_images: int = 512,
    patch_size: int | None = None,
    steps: int = 1000,
    batch_size: int = 128,
    test_fraction: float = 0.25,
    local_threshold: float = SHORTCUT_THRESHOLD,
    confusable_threshold: float = CONFUSABLE_THRESHOLD,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> AuditReport:
    """Measure, per class of ``head``, how well local patches and whole images reveal it.

    Every image is transformed under every class (eq. 4.1); a quarter of the *images* (all
    their transformed versions) is held out. ``patch_size`` defaults to a quarter of the image
    side. A class is flagged as a shortcut risk when the patch classifier's held-out accuracy on
    it reaches ``local_threshold``; a pair is flagged as ambiguous when the whole-image classifier
    separates it with accuracy below ``confusable_threshold`` (0.5 is chance). Learned transforms
    are audited as they are (untrained unless their weights were loaded). ``progress`` shows a bar
    per probe.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    head = head or next(iter(transform_set.heads))
    if head not in transform_set.heads:
        raise KeyError(f"unknown head {head!r}; the transform set has {list(transform_set.heads)}")
    generator = torch.Generator().manual_seed(seed)
    images = _load_images(data, num_images, generator).to(device)
    count, slots = images.shape[0], len(transform_set)
    if count < 4:
        raise ValueError(f"the audit needs at least 4 images, the data set has {count}")
    patch_size = patch_size or max(1, min(images.shape[-2:]) // 4)
    source = torch.arange(count).repeat(slots)
    slot_of_sample = torch.arange(slots).repeat_interleave(count)
    with torch.no_grad():
        inputs, targets = transform_set.apply_slots(images, source, slot_of_sample, generator)
    labels = targets[head].cpu()
    held_out = torch.zeros(count, dtype=torch.bool)
    held_out[torch.randperm(count, generator=generator)[: max(1, round(test_fraction * count))]] = True
    valid = labels >= 0
    train = (valid & ~held_out[source]).nonzero().flatten()
    test = (valid & held_out[source]).nonzero().flatten()
    num_classes = len(transform_set.heads[head])
    logits = {}
    for name, size in (("local", patch_size), ("global", None)):
        logits[name] = train_and_test(
            inputs[train.to(device)],
            labels[train].to(device),
            inputs[test.to(device)],
            labels[test].to(device),
            num_classes,
            size,
            steps=steps,
            batch_size=batch_size,
            seed=seed,
            progress=progress,
            desc=f"audit: {name} probe",
        )
    test_labels = labels[test]
    local_confusion = confusion_matrix(logits["local"], test_labels, num_classes)
    global_confusion = confusion_matrix(logits["global"], test_labels, num_classes)
    return AuditReport(
        head=head,
        classes=list(transform_set.heads[head]),
        image_size=list(images.shape[1:]),
        patch_size=patch_size,
        num_images=count,
        local_recall=recall(local_confusion),
        global_recall=recall(global_confusion),
        local_confusion=local_confusion.tolist(),
        global_confusion=global_confusion.tolist(),
        local_pairwise=pairwise_separability(logits["local"], test_labels, num_classes),
        global_pairwise=pairwise_separability(logits["global"], test_labels, num_classes),
        local_threshold=local_threshold,
        confusable_threshold=confusable_threshold,
    )
