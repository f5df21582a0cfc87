"""TorchvisionResNet: taps, stems and registry names."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from transformrec.backbones import TorchvisionResNet, build_backbone, list_backbones


def test_taps_shapes_standard_stem_on_64px() -> None:
    model = TorchvisionResNet("resnet18").eval()
    taps = model.forward_taps(torch.randn(2, 3, 64, 64), model.tap_names)
    assert list(taps) == ["stem", "layer1", "layer2", "layer3", "layer4", "pool"]
    assert taps["stem"].shape == (2, 64, 16, 16)  # conv1 /2, maxpool /2
    assert taps["layer1"].shape == (2, 64, 16, 16)
    assert taps["layer2"].shape == (2, 128, 8, 8)
    assert taps["layer3"].shape == (2, 256, 4, 4)
    assert taps["layer4"].shape == (2, 512, 2, 2)
    assert taps["pool"].shape == (2, 512)
    assert model.feature_dim == 512


def test_low_resolution_stem_keeps_full_resolution_on_32px() -> None:
    model = TorchvisionResNet("resnet18", low_resolution=True).eval()
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    assert isinstance(model.maxpool, nn.Identity)
    taps = model.forward_taps(torch.randn(2, 3, 32, 32), model.tap_names)
    assert taps["stem"].shape == (2, 64, 32, 32)
    assert taps["layer4"].shape == (2, 512, 4, 4)
    assert taps["pool"].shape == (2, 512)


def test_resnet50_feature_dim_and_in_channels() -> None:
    model = build_backbone("resnet50", in_channels=1, low_resolution=True).eval()
    assert model.feature_dim == 2048
    assert model.conv1.in_channels == 1
    assert model(torch.randn(1, 1, 32, 32)).shape == (1, 2048)


def test_forward_equals_pool_tap_and_no_fc() -> None:
    model = TorchvisionResNet("resnet18", low_resolution=True).eval()
    assert not hasattr(model, "fc")
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x), model.forward_taps(x, ["pool"])["pool"])


def test_forward_taps_stops_after_last_requested_tap() -> None:
    model = TorchvisionResNet("resnet18", low_resolution=True).eval()
    ran: list[str] = []
    for name in ("layer1", "layer2", "layer3", "layer4"):
        getattr(model, name).register_forward_hook(lambda *_, name=name: ran.append(name))
    model.forward_taps(torch.randn(1, 3, 32, 32), ["layer2"])
    assert ran == ["layer1", "layer2"]


def test_unknown_tap_error_lists_available_taps() -> None:
    model = TorchvisionResNet("resnet18")
    with pytest.raises(KeyError, match="available.*stem.*pool"):
        model.forward_taps(torch.randn(1, 3, 32, 32), ["conv5"])


def test_unknown_arch_is_rejected() -> None:
    with pytest.raises(ValueError, match="resnet18"):
        TorchvisionResNet("resnet101")


@pytest.mark.parametrize(("name", "dim"), [("resnet18", 512), ("resnet34", 512), ("resnet50", 2048)])
def test_registered_by_name(name: str, dim: int) -> None:
    assert name in list_backbones()
    model = build_backbone(name)
    assert isinstance(model, TorchvisionResNet)
    assert model.arch == name and model.feature_dim == dim


def test_taps_are_not_overwritten_by_later_in_place_ops() -> None:
    model = TorchvisionResNet("resnet18", low_resolution=True).eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        together = model.forward_taps(x, model.tap_names)
        for name in model.tap_names:
            assert torch.equal(together[name], model.forward_taps(x, [name])[name]), name
