"""``transformrec export``: a pretraining run's backbone loads into torchvision, timm and this package,
and computes there the features it computed in the run (checked on the pooled features)."""

import json
from pathlib import Path

import pytest
import torch
import torchvision

from transformrec.backbones.export import load_exported
from transformrec.cli.main import main

TINY = [
    *("--set", "data.num_samples=64", "--set", "train.epochs=1", "--set", "train.batch_size=32"),
    *("--set", "device=cpu", "--set", "progress=false"),
]


def _pretrain(tmp_path, backbone: str) -> Path:
    config = tmp_path / "run.yaml"
    config.write_text(f"output_dir: {tmp_path / 'run'}\ndata: {{name: upright_objects, image_size: 32}}\n{backbone}")
    assert main(["pretrain", str(config), *TINY]) == 0
    return tmp_path / "run"


def _ours(run) -> torch.nn.Module:
    """The run's backbone as the run saw it, rebuilt from its own card and weights."""
    from transformrec.backbones.registry import build_backbone

    card = json.loads((run / "backbone.json").read_text())
    backbone = build_backbone(card["registry"]["name"], **card["registry"]["params"])
    backbone.load_state_dict(torch.load(run / "backbone.pt", weights_only=True))
    return backbone.eval()


@pytest.fixture(scope="module")
def resnet_run(tmp_path_factory):
    return _pretrain(tmp_path_factory.mktemp("resnet"), "backbone: {name: resnet18}\n")


def test_a_resnet_run_exports_to_torchvision_with_only_fc_missing_and_the_same_features(resnet_run, capsys):
    assert main(["export", str(resnet_run), "--format", "torchvision"]) == 0
    assert "load it with: model = torchvision.models.resnet18()" in capsys.readouterr().out
    card = json.loads((resnet_run / "backbone_torchvision.json").read_text())
    assert card["input"]["range"] == [0.0, 1.0] and card["input"]["mean"] is None
    assert card["in_channels"] == 3 and card["stem"] == "torchvision" and len(card["config_sha256"]) == 64
    model = torchvision.models.resnet18()
    missing, unexpected = model.load_state_dict(
        torch.load(resnet_run / "backbone_torchvision.pt", weights_only=True), strict=False
    )
    assert sorted(missing) == ["fc.bias", "fc.weight"] and unexpected == []
    model.fc = torch.nn.Identity()
    images = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(images), _ours(resnet_run)(images))


def test_a_resnet_run_exports_to_timm_with_every_key_matched(resnet_run):
    timm = pytest.importorskip("timm")
    assert main(["export", str(resnet_run), "--format", "timm"]) == 0
    model = timm.create_model("resnet18", num_classes=0, pretrained=False)
    model.load_state_dict(torch.load(resnet_run / "backbone_timm.pt", weights_only=True))  # strict
    images = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(images), _ours(resnet_run)(images))


def test_an_alexnet_run_exports_natively_and_torchvision_is_refused_in_one_line(tmp_path, capsys):
    run = _pretrain(tmp_path, "backbone: {name: alexnet_bn, params: {width: 0.25, fc_dim: 64}}\n")
    assert main(["export", str(run), "--format", "torchvision"]) == 2
    assert "AlexNetBN has no torchvision equivalent (only ResNets do); use --format native" in capsys.readouterr().err
    assert main(["export", str(run), "--format", "native", "--out", str(tmp_path / "exported")]) == 0
    rebuilt = load_exported(tmp_path / "exported" / "backbone_native.pt")
    images = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(images), _ours(run)(images))
    assert main(["export", str(tmp_path / "nothing_here")]) == 2
    assert "backbone.pt: not found" in capsys.readouterr().err
