"""Backbones with named taps (AlexNet-BN of sec. 4.4, torchvision ResNets, the 3D-CNNs of ch. 5).

Importing this package registers every backbone, so ``build_backbone(name)`` works.
"""

from transformrec.backbones import alexnet, resnet, video  # noqa: F401  (import registers the factories)
from transformrec.backbones.alexnet import AlexNetBN
from transformrec.backbones.base import TappedBackbone
from transformrec.backbones.export import export_torchvision_state_dict, save_torchvision_weights
from transformrec.backbones.registry import build_backbone, list_backbones, register_backbone
from transformrec.backbones.resnet import TorchvisionResNet
from transformrec.backbones.video import C3DSmall, TorchvisionVideoResNet

__all__ = [
    "AlexNetBN",
    "C3DSmall",
    "TappedBackbone",
    "TorchvisionResNet",
    "TorchvisionVideoResNet",
    "build_backbone",
    "export_torchvision_state_dict",
    "list_backbones",
    "register_backbone",
    "save_torchvision_weights",
]
