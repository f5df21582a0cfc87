"""Transforms: the registry, the Transform contract, TransformSet and the built-in transforms."""

from transformrec.transforms.augment import RandomCropFlip
from transformrec.transforms.base import IGNORE_INDEX, LearnedTransform, PreDecodingTransform, Transform
from transformrec.transforms.damage_repair import DamageRepair
from transformrec.transforms.image import Identity, Rotation, Warp
from transformrec.transforms.lci import LimitedContextInpainting
from transformrec.transforms.multiview import Flip, PairTransform, Synchronization
from transformrec.transforms.registry import build_transform, list_transforms, register_transform
from transformrec.transforms.rotation_jitter import RotationJitter
from transformrec.transforms.temporal import Periodic, RandomOrder, Speed, TemporalTransform, TemporalWarp
from transformrec.transforms.transform_set import DataPath, TransformSet

__all__ = [
    "IGNORE_INDEX",
    "DamageRepair",
    "DataPath",
    "Flip",
    "Identity",
    "LearnedTransform",
    "LimitedContextInpainting",
    "PairTransform",
    "Periodic",
    "PreDecodingTransform",
    "RandomOrder",
    "RandomCropFlip",
    "Rotation",
    "RotationJitter",
    "Speed",
    "Synchronization",
    "TemporalTransform",
    "TemporalWarp",
    "Transform",
    "TransformSet",
    "Warp",
    "build_transform",
    "list_transforms",
    "register_transform",
]
