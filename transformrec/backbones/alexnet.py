"""AlexNet with batch normalization: the transformation classifier C of thesis section 4.4.

Why this exact network: for a fair comparison with prior self-supervised work the thesis
implements C "with a standard AlexNet architecture" (Krizhevsky et al.), removes the local
response normalization layers, adds batch normalization to every layer except the final
classifier, and keeps the two-stream (grouped) convolutions. For lower resolution images
(STL-10 64 px, CIFAR 32 px) it removes the max-pooling after conv5 and uses SAME padding
throughout (section 4.4). The final classification layer is not part of the backbone: the
trainer adds one head per pretext task on top of ``fc7``.

The file reads top to bottom: the spatial-size arithmetic, the building blocks, the model,
then the registered factory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from transformrec.backbones.base import StagedBackbone
from transformrec.backbones.registry import register_backbone

# Krizhevsky et al. channel counts of conv1..conv5 (before width scaling).
ALEXNET_CHANNELS: tuple[int, ...] = (96, 256, 384, 384, 256)
# Which convolutions are split into the two streams of the original two-GPU network.
ALEXNET_GROUPED: tuple[bool, ...] = (False, True, False, True, True)
ALEXNET_KERNELS: tuple[int, ...] = (11, 5, 3, 3, 3)
ALEXNET_TAPS: tuple[str, ...] = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7")


@dataclass(frozen=True)
class _Layout:
    """Padding choices of one AlexNet variant (standard 224 px, or SAME padding for low resolution)."""

    conv_padding: tuple[int, ...]
    pool_padding: int
    pool5: bool


def _layout(low_resolution: bool) -> _Layout:
    """SAME padding (``k // 2``, pools padded by 1) and no pool5 on low resolution, as in section 4.4.

    The standard layout pads conv1 by 2 (torchvision's convention, 224 px → 55×55) so that the
    usual 6×6×256 pool5 output is obtained.
    """
    if low_resolution:
        return _Layout(conv_padding=tuple(k // 2 for k in ALEXNET_KERNELS), pool_padding=1, pool5=False)
    return _Layout(conv_padding=(2, 2, 1, 1, 1), pool_padding=0, pool5=True)


def _out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def alexnet_spatial_sizes(image_size: int, low_resolution: bool = True) -> dict[str, int]:
    """Side length of every AlexNet feature map for a square ``image_size`` input.

    Why analytic: fc6 must be sized in ``__init__`` (no lazy modules, so that optimizers and
    checkpoints see every parameter from the start). Keys are the conv taps plus ``"pool5"``
    (the map that is flattened into fc6; equal to conv5 when pool5 is removed). Raises
    ``ValueError`` when the input is too small for the network.
    """
    layout = _layout(low_resolution)
    variant = "low_resolution" if low_resolution else "standard"
    too_small = ValueError(f"image_size={image_size} is too small for the {variant} AlexNet layout")
    sizes: dict[str, int] = {}
    size = image_size
    for index, (kernel, padding) in enumerate(zip(ALEXNET_KERNELS, layout.conv_padding, strict=True)):
        if index in (1, 2):  # max-pooling after conv1 and conv2
            size = _out_size(size, 3, 2, layout.pool_padding)
        if size >= 1:
            size = _out_size(size, kernel, 4 if index == 0 else 1, padding)
        if size < 1:
            raise too_small
        sizes[f"conv{index + 1}"] = size
    sizes["pool5"] = _out_size(size, 3, 2, 0) if layout.pool5 else size
    if sizes["pool5"] < 1:
        raise too_small
    return sizes


def _scaled_channels(channels: int, width: float, groups: int) -> int:
    """Scale a channel count by ``width``, rounded to a positive multiple of ``groups``."""
    return max(groups, round(channels * width / groups) * groups)


def _conv_stage(
    in_channels: int,
    out_channels: int,
    kernel: int,
    stride: int,
    padding: int,
    groups: int,
    pool: nn.Module | None,
    batch_norm: bool = True,
) -> nn.Sequential:
    """[max-pool →] conv → [BN →] ReLU; with BN the conv has no bias, because BN supplies the shift."""
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    if pool is not None:
        layers["pool"] = pool
    layers["conv"] = nn.Conv2d(in_channels, out_channels, kernel, stride, padding, groups=groups, bias=not batch_norm)
    if batch_norm:
        layers["bn"] = nn.BatchNorm2d(out_channels)
    layers["relu"] = nn.ReLU(inplace=True)
    return nn.Sequential(layers)


def _fc_stage(
    in_features: int, out_features: int, prefix: Sequence[tuple[str, nn.Module]] = (), batch_norm: bool = True
) -> nn.Sequential:
    """[pool5 → flatten →] linear → [BN →] ReLU (fc6 and fc7 are not the final layer, so they get BN)."""
    layers: OrderedDict[str, nn.Module] = OrderedDict(prefix)
    layers["fc"] = nn.Linear(in_features, out_features, bias=not batch_norm)
    if batch_norm:
        layers["bn"] = nn.BatchNorm1d(out_features)
    layers["relu"] = nn.ReLU(inplace=True)
    return nn.Sequential(layers)


BATCH_NORM_MODES = ("all", "conv5")


class AlexNetBN(StagedBackbone):
    """Two-stream AlexNet with batch normalization and no LRN (thesis section 4.4).

    ``stages`` holds one ``nn.Sequential`` per tap; each stage maps the previous tap to its
    own, so taps are the post-ReLU maps *before* the pooling that follows them, and
    :meth:`forward_taps` can stop after the last requested tap.

    Args:
        in_channels: image channels.
        width: multiplies every conv channel count (rounded to a multiple of ``groups``);
            small widths keep tests and ablations cheap.
        fc_dim: width of fc6 and fc7 (4096 in AlexNet); also ``feature_dim``.
        groups: 2 keeps the original two-stream layout of conv2, conv4 and conv5; 1 merges it.
        low_resolution: SAME padding everywhere and no pool5, for 32-96 px inputs (section 4.4).
        image_size: side of the square input; fixes the input size of fc6.
        batch_norm: ``all`` (every conv and fc layer, chapter 4) or ``conv5`` (only after conv5: the
            chapter 3 classifier, sec. 3.3.3).
        fc_layers: 2 (fc6, fc7) or 1 (chapter 3 "removes the second fully-connected layer"; the
            ``fc7`` tap then repeats ``fc6``).
        input_scale: if set, conv1 sees (x − 0.5) · ``input_scale`` instead of the [0, 1] image x.
            The chapter 3 classifier has BN only after conv5, so nothing rescales its input: the
            authors feed it x · 255 − the mean colour (sjenni/LearningToSpotArtifacts
            ``scale_imgs``), which is ``input_scale: 255`` with mid-grey for the mean. With [0, 1]
            inputs and PyTorch's initialisation, its conv4 pre-activations varied across images by
            0.0067 against biases of 0.016 on average: C barely saw its input.
        init: ``"pytorch"`` (PyTorch's default initialisation) or ``"authors"``: Glorot-uniform
            weights and biases 0.1, as TF-slim's AlexNet of the authors' chapter 3 code.
    """

    tap_names = ALEXNET_TAPS

    def __init__(
        self,
        *,
        in_channels: int = 3,
        width: float = 1.0,
        fc_dim: int = 4096,
        groups: int = 2,
        low_resolution: bool = True,
        image_size: int = 64,
        batch_norm: str = "all",
        fc_layers: int = 2,
        input_scale: float | None = None,
        init: str = "pytorch",
    ) -> None:
        super().__init__()
        if init not in ("pytorch", "authors"):
            raise ValueError(f"init must be 'pytorch' or 'authors', got {init!r}")
        if input_scale is not None and input_scale <= 0:
            raise ValueError(f"input_scale must be positive, got {input_scale}")
        if batch_norm not in BATCH_NORM_MODES:
            raise ValueError(f"batch_norm must be one of {BATCH_NORM_MODES}, got {batch_norm!r}")
        if fc_layers not in (1, 2):
            raise ValueError(f"fc_layers must be 1 or 2, got {fc_layers}")
        if groups < 1:
            raise ValueError(f"groups must be >= 1, got {groups}")
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        self.in_channels = in_channels
        self.input_scale = input_scale
        self.width = width
        self.fc_dim = fc_dim
        self.groups = groups
        self.low_resolution = low_resolution
        self.image_size = image_size
        self.feature_dim = fc_dim
        self.spatial_sizes = alexnet_spatial_sizes(image_size, low_resolution)
        self.channels = tuple(_scaled_channels(c, width, groups) for c in ALEXNET_CHANNELS)

        layout = _layout(low_resolution)
        stages: OrderedDict[str, nn.Module] = OrderedDict()
        previous = in_channels
        for index, out_channels in enumerate(self.channels):
            pool = nn.MaxPool2d(3, 2, layout.pool_padding) if index in (1, 2) else None
            stages[f"conv{index + 1}"] = _conv_stage(
                previous,
                out_channels,
                ALEXNET_KERNELS[index],
                stride=4 if index == 0 else 1,
                padding=layout.conv_padding[index],
                groups=groups if ALEXNET_GROUPED[index] else 1,
                pool=pool,
                batch_norm=batch_norm == "all" or index == len(self.channels) - 1,
            )
            previous = out_channels
        self.conv5_shape = (previous, self.spatial_sizes["conv5"], self.spatial_sizes["conv5"])
        prefix: list[tuple[str, nn.Module]] = [("pool", nn.MaxPool2d(3, 2))] if layout.pool5 else []
        prefix.append(("flatten", nn.Flatten(1)))
        flat = previous * self.spatial_sizes["pool5"] ** 2
        with_bn = batch_norm == "all"
        stages["fc6"] = _fc_stage(flat, fc_dim, prefix, batch_norm=with_bn)
        stages["fc7"] = _fc_stage(fc_dim, fc_dim, batch_norm=with_bn) if fc_layers == 2 else nn.Identity()
        self.stages = nn.ModuleDict(stages)
        if init == "authors":
            for module in self.modules():
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    nn.init.xavier_uniform_(module.weight)
                    if module.bias is not None:
                        nn.init.constant_(module.bias, 0.1)

    def run_stage(self, name: str, x: torch.Tensor) -> torch.Tensor:
        if name == "conv1" and self.input_scale is not None:
            x = (x - 0.5) * self.input_scale
        if name == "fc6" and tuple(x.shape[1:]) != self.conv5_shape:
            raise ValueError(
                f"conv5 output {tuple(x.shape[1:])} does not match {self.conv5_shape}: this AlexNetBN was "
                f"built for image_size={self.image_size}, got an input of different size"
            )
        return self.stages[name](x)


alexnet_bn = register_backbone("alexnet_bn", run_inputs=("in_channels", "image_size"))(AlexNetBN)
"""The thesis classifier C (section 4.4), registered as ``alexnet_bn``; defaults match the 64 px STL-10 experiments."""
