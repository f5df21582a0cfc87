"""Export to torchvision weights, checked against torchvision's own forward pass."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision

from transformrec.backbones import (
    AlexNetBN,
    TorchvisionResNet,
    export_torchvision_state_dict,
    save_torchvision_weights,
)


def trained_resnet18() -> TorchvisionResNet:
    """A ResNet-18 whose BN running stats differ from a fresh model, so the check is not vacuous."""
    torch.manual_seed(0)
    model = TorchvisionResNet("resnet18")
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 3, 64, 64) * 2 + 1)
    return model.eval()


def torchvision_pooled_features(net: torchvision.models.ResNet, x: torch.Tensor) -> torch.Tensor:
    """Flattened ``avgpool`` output of a stock torchvision model, read with a forward hook."""
    captured: list[torch.Tensor] = []
    handle = net.avgpool.register_forward_hook(lambda _m, _i, out: captured.append(out.flatten(1)))
    with torch.no_grad():
        net(x)
    handle.remove()
    return captured[0]


def test_exported_state_dict_loads_into_torchvision_and_reproduces_pool_tap() -> None:
    ours = trained_resnet18()
    state = export_torchvision_state_dict(ours)
    reference = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(2, 3, 64, 64)
    expected = ours.forward_taps(x, ["pool"])["pool"].detach()
    assert not torch.allclose(torchvision_pooled_features(reference, x), expected)  # fresh weights differ
    result = reference.load_state_dict(state, strict=False)
    assert sorted(result.missing_keys) == ["fc.bias", "fc.weight"]
    assert result.unexpected_keys == []
    torch.testing.assert_close(torchvision_pooled_features(reference, x), expected)


def test_export_is_a_detached_copy() -> None:
    ours = trained_resnet18()
    state = export_torchvision_state_dict(ours)
    with torch.no_grad():
        ours.conv1.weight.zero_()
    assert state["conv1.weight"].abs().sum() > 0
    assert not state["conv1.weight"].requires_grad


def test_save_is_loadable_with_weights_only_and_leaves_no_temp_file(tmp_path: Path) -> None:
    ours = trained_resnet18()
    path = save_torchvision_weights(ours, tmp_path / "weights" / "resnet18.pt")
    assert path.exists()
    assert [p.name for p in path.parent.iterdir()] == ["resnet18.pt"]
    loaded = torch.load(path, weights_only=True)
    reference = torchvision.models.resnet18(weights=None)
    reference.load_state_dict(loaded, strict=False)
    for key, value in export_torchvision_state_dict(ours).items():
        assert torch.equal(loaded[key], value), key


def test_save_overwrites_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "w.pt"
    path.write_bytes(b"stale")
    save_torchvision_weights(trained_resnet18(), path)
    assert "conv1.weight" in torch.load(path, weights_only=True)


@pytest.mark.parametrize("kwargs", [{"low_resolution": True}, {"in_channels": 1}])
def test_modified_stem_needs_explicit_opt_in(kwargs: dict[str, object]) -> None:
    model = TorchvisionResNet("resnet18", **kwargs)
    with pytest.raises(ValueError, match="allow_modified_stem"):
        export_torchvision_state_dict(model)
    state = export_torchvision_state_dict(model, allow_modified_stem=True)
    assert state["conv1.weight"].shape == model.conv1.weight.shape


def test_alexnet_export_is_refused_with_reason(tmp_path: Path) -> None:
    model = AlexNetBN(width=0.125, fc_dim=8)
    with pytest.raises(TypeError, match="no torchvision equivalent"):
        export_torchvision_state_dict(model)
    with pytest.raises(TypeError, match="no torchvision equivalent"):
        save_torchvision_weights(model, tmp_path / "alexnet.pt")
    assert list(tmp_path.iterdir()) == []
