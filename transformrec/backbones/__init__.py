"""Backbones with named taps (thesis section 4.4: AlexNet-BN; plus torchvision ResNets).

Importing this package registers every backbone, so ``build_backbone(name)`` works.
"""

from transformrec.backbones import alexnet, resnet  # noqa: F401  (import registers the factories)
from transformrec.backbones.alexnet import AlexNetBN
from transformrec.backbones.base import TappedBackbone
from transformrec.backbones.export import export_torchvision_state_dict, save_torchvision_weights
from transformrec.backbones.registry import build_backbone, list_backbones, register_backbone
from transformrec.backbones.resnet import TorchvisionResNet

__all__ = [
    "AlexNetBN",
    "TappedBackbone",
    "TorchvisionResNet",
    "build_backbone",
    "export_torchvision_state_dict",
    "list_backbones",
    "register_backbone",
    "save_torchvision_weights",
]
