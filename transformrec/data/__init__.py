"""Data sets behind one contract: ``(C×H×W float image in [0, 1], int label or -1)`` for images,
``(3×T×H×W float clip in [0, 1], int label)`` for videos.

Importing this package imports every data set module so that each registers its name with
``build_dataset`` (``upright_objects``, ``fashion_on_noise``, ``fashion_mnist``, ``procedural``,
``image_folder``, ``torchvision``, ``video_folder``, ``multiview_folder``, ``multiview_poses``), plus the
``noisy_labels`` and ``pixel_permuted`` wrappers of chapter 8.
"""

from transformrec.data.fashion_mnist import FashionMNIST
from transformrec.data.idx_format import read_idx
from transformrec.data.image_folder import ImageFolderDataset, to_contract_image
from transformrec.data.label_noise import NoisyLabels, PixelPermuted, corrupt_labels
from transformrec.data.multiview_folder import MultiViewFolder, MultiViewPoses
from transformrec.data.procedural import ProceduralShapes, render_params
from transformrec.data.registry import build_dataset, list_datasets, register_dataset
from transformrec.data.torchvision_sets import TorchvisionDataset, torchvision_dataset
from transformrec.data.upright_objects import FashionOnNoise, UprightObjects
from transformrec.data.video_folder import VideoFolder

__all__ = [
    "FashionMNIST",
    "FashionOnNoise",
    "ImageFolderDataset",
    "MultiViewFolder",
    "MultiViewPoses",
    "NoisyLabels",
    "PixelPermuted",
    "ProceduralShapes",
    "TorchvisionDataset",
    "UprightObjects",
    "VideoFolder",
    "build_dataset",
    "corrupt_labels",
    "list_datasets",
    "read_idx",
    "register_dataset",
    "render_params",
    "to_contract_image",
    "torchvision_dataset",
]
