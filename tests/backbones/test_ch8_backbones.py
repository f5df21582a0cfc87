"""Tests for the chapter 8 backbones: CifarNet, small Inception, PreAct ResNet-18."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch import nn

from transformrec.backbones import build_backbone
from transformrec.bilevel import per_batch_grads


def test_cifarnet_has_the_layer_sizes_of_zhang_et_al() -> None:
    net = build_backbone("cifarnet", in_channels=3, image_size=32)
    # conv 5×5×3×64, conv 5×5×64×64, fc 8·8·64→384, fc 384→192, each with biases.
    expected = (5 * 5 * 3 * 64 + 64) + (5 * 5 * 64 * 64 + 64) + (8 * 8 * 64 * 384 + 384) + (384 * 192 + 192)
    assert sum(p.numel() for p in net.parameters()) == expected
    taps = net.forward_taps(torch.randn(2, 3, 32, 32), net.tap_names)
    assert {k: tuple(v.shape) for k, v in taps.items()} == {
        "conv1": (2, 64, 32, 32),
        "conv2": (2, 64, 16, 16),
        "fc3": (2, 384),
        "fc4": (2, 192),
    }
    assert sum(isinstance(m, nn.Dropout) for m in net.modules()) == 1  # the single dropout of sec. 8.4.1


def test_cifarnet_fits_fashion_mnist_sized_inputs() -> None:
    net = build_backbone("cifarnet", in_channels=1, image_size=28, width=0.25)
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, net.feature_dim)


def test_small_inception_stage_shapes() -> None:
    net = build_backbone("small_inception", width=0.25)
    taps = net.forward_taps(torch.randn(2, 3, 32, 32), net.tap_names)
    # width 0.25: conv1 24; stage1 ends with Downsample(20) over 20 channels → 40 at 16 px;
    # stage2 ends with Downsample(24) over 36 → 60 at 8 px; stage3 44 + 40 = 84.
    assert {k: tuple(v.shape) for k, v in taps.items()} == {
        "conv1": (2, 24, 32, 32),
        "stage1": (2, 40, 16, 16),
        "stage2": (2, 60, 8, 8),
        "stage3": (2, 84, 8, 8),
        "pool": (2, 84),
    }
    assert net.feature_dim == 84
    assert build_backbone("small_inception").feature_dim == 336


def test_preact_resnet18_stages_and_width() -> None:
    net = build_backbone("preact_resnet18", width=0.125)
    taps = net.forward_taps(torch.randn(2, 3, 32, 32), net.tap_names)
    assert {k: tuple(v.shape) for k, v in taps.items()} == {
        "stem": (2, 8, 32, 32),
        "layer1": (2, 8, 32, 32),
        "layer2": (2, 16, 16, 16),
        "layer3": (2, 32, 8, 8),
        "layer4": (2, 64, 4, 4),
        "pool": (2, 64),
    }
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) == 17  # stem + 4 stages × 2 blocks × 2 convs: the "18" counts the classifier


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("cifarnet", {"image_size": 16, "width": 0.125}),
        ("small_inception", {"width": 0.125}),
        ("preact_resnet18", {"width": 0.0625}),
    ],
)
def test_backbones_run_under_vmap_for_bilevel_gradients(name: str, kwargs: dict) -> None:
    torch.manual_seed(0)
    backbone = build_backbone(name, **kwargs)
    model = nn.Sequential(backbone, nn.Linear(backbone.feature_dim, 3)).train()
    x, y = torch.randn(2, 4, 3, 16, 16), torch.randint(0, 3, (2, 4))
    result = per_batch_grads(model, F.cross_entropy, x, y, method="vmap")
    assert all(g.shape[0] == 2 and torch.isfinite(g).all() for g in result.grads.values())
