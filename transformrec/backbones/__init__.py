"""Backbones with named taps: AlexNet-BN (sec. 4.4), torchvision ResNets, the 3D-CNNs of ch. 5, and
the CifarNet, small Inception and PreAct ResNet-18 of sec. 8.4, and the Siamese wrapper of ch. 6.

Importing this package registers every backbone, so ``build_backbone(name)`` works.
"""

# Importing the modules registers their factories.
from transformrec.backbones import (  # noqa: F401
    alexnet,
    cifarnet,
    preact_resnet,
    resnet,
    siamese,
    small_inception,
    video,
)
from transformrec.backbones.alexnet import AlexNetBN
from transformrec.backbones.base import StagedBackbone, TappedBackbone
from transformrec.backbones.cifarnet import CifarNet
from transformrec.backbones.export import export_torchvision_state_dict, save_torchvision_weights
from transformrec.backbones.preact_resnet import PreActResNet18
from transformrec.backbones.registry import build_backbone, list_backbones, register_backbone
from transformrec.backbones.resnet import TorchvisionResNet
from transformrec.backbones.siamese import SiameseBackbone
from transformrec.backbones.small_inception import SmallInception
from transformrec.backbones.video import C3DSmall, TorchvisionVideoResNet

__all__ = [
    "AlexNetBN",
    "C3DSmall",
    "CifarNet",
    "PreActResNet18",
    "SiameseBackbone",
    "SmallInception",
    "StagedBackbone",
    "TappedBackbone",
    "TorchvisionResNet",
    "TorchvisionVideoResNet",
    "build_backbone",
    "export_torchvision_state_dict",
    "list_backbones",
    "register_backbone",
    "save_torchvision_weights",
]
