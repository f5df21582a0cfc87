"""transformrec: self-supervised visual representation learning by recognizing data transformations.

Importing the package registers every built-in transform, backbone, dataset and evaluation.
"""

from transformrec import backbones, data, eval, transforms  # noqa: F401  (registration side effects)
from transformrec.backbones import build_backbone, list_backbones
from transformrec.data import build_dataset, list_datasets
from transformrec.eval import get_evaluation, list_evaluations
from transformrec.training import Trainer, TrainOptions
from transformrec.transforms import (
    DamageRepair,
    Identity,
    LearnedTransform,
    LimitedContextInpainting,
    Rotation,
    Transform,
    TransformSet,
    Warp,
    build_transform,
    list_transforms,
    register_transform,
)

__version__ = "0.1.0"

__all__ = [
    "DamageRepair",
    "Identity",
    "LearnedTransform",
    "LimitedContextInpainting",
    "Rotation",
    "TrainOptions",
    "Trainer",
    "Transform",
    "TransformSet",
    "Warp",
    "build_backbone",
    "build_dataset",
    "build_transform",
    "get_evaluation",
    "list_backbones",
    "list_datasets",
    "list_evaluations",
    "list_transforms",
    "register_transform",
]
