"""Tests for transformrec.eval.finetune: no side effects on the caller, learning, freezing."""

from __future__ import annotations

import json

import pytest
import torch
from eval_fakes import TensorSet
from torch import nn

from transformrec.backbones.base import TappedBackbone
from transformrec.eval import finetune, get_evaluation
from transformrec.eval.finetune import freeze_modules, reestimate_batch_norm


class TinyConvNet(TappedBackbone):
    tap_names = ("conv1", "pool")
    feature_dim = 8

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv10 = nn.Conv2d(8, 8, 1)

    def forward_taps(self, x: torch.Tensor, taps) -> dict[str, torch.Tensor]:
        conv1 = torch.relu(self.bn1(self.conv1(x)))
        out = {"conv1": conv1, "pool": self.conv10(conv1).mean((2, 3))}
        return {tap: out[tap] for tap in taps}


def colour_task(n: int, seed: int) -> TensorSet:
    """Three classes told apart by which colour channel is brighter: easy, but only after training."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    images = torch.randn(n, 3, 8, 8, generator=gen) * 0.5
    images[torch.arange(n), labels] += 1.0
    return TensorSet(images, labels, 3)


FAST = {"epochs": 8, "lr": 2e-2, "batch_size": 32}


def test_finetune_learns_an_easy_task_without_touching_the_callers_backbone():
    torch.manual_seed(0)
    net = TinyConvNet().eval()
    before = {name: tensor.clone() for name, tensor in net.state_dict().items()}
    rng = torch.get_rng_state()

    result = finetune(net, colour_task(96, 0), colour_task(60, 1), **FAST)

    assert torch.equal(rng, torch.get_rng_state())
    assert not net.training and not any(module.training for module in net.modules())
    for name, tensor in net.state_dict().items():
        assert torch.equal(tensor, before[name]), name
    assert all(parameter.requires_grad and parameter.grad is None for parameter in net.parameters())
    assert result["test_acc"] > 0.8 and result["train_acc"] > 0.8  # chance is 1/3
    assert len(result["epoch_loss"]) == 8 and result["epoch_loss"][-1] < result["epoch_loss"][0]
    json.dumps(result)


def test_finetune_is_registered_and_seed_deterministic():
    assert get_evaluation("finetune") is finetune
    net = TinyConvNet()
    first = finetune(net, colour_task(45, 0), colour_task(30, 1), epochs=2, seed=4, labels_per_class=10)
    second = finetune(net, colour_task(45, 0), colour_task(30, 1), epochs=2, seed=4, labels_per_class=10)
    assert first == second
    assert first["settings"]["num_train"] == 30


def test_finetune_with_frozen_prefix_runs():
    result = finetune(TinyConvNet(), colour_task(48, 0), colour_task(30, 1), epochs=2, freeze=["conv1", "bn1"])
    assert result["settings"]["freeze"] == ["conv1", "bn1"]


def test_freeze_modules_matches_whole_name_components():
    net = TinyConvNet()
    frozen = freeze_modules(net, ["conv1"])
    assert frozen == [net.conv1]
    assert not net.conv1.weight.requires_grad and not net.conv1.bias.requires_grad
    assert net.conv10.weight.requires_grad and net.bn1.weight.requires_grad
    with pytest.raises(ValueError, match="conv9"):
        freeze_modules(TinyConvNet(), ["conv9"])


def test_finetune_with_bilevel_learns_and_reports_its_settings():
    result = finetune(
        TinyConvNet(), colour_task(96, 0), colour_task(60, 1), epochs=8, lr=2e-2, batch_size=8, bilevel={"k": 4}
    )
    assert result["test_acc"] > 0.8  # chance is 1/3
    assert result["settings"]["bilevel"] == {"k": 4}


def test_reestimated_batch_norm_holds_the_statistics_of_the_data_it_saw():
    torch.manual_seed(0)
    net = TinyConvNet()
    net.add_module("dropout", nn.Dropout(0.5))  # must stay off during the pass
    data = colour_task(64, 0).images * 3 + 2
    weights = {name: tensor.clone() for name, tensor in net.named_parameters()}
    with torch.no_grad():
        conv1 = net.conv1(data)  # the BN layer's input, computed apart
    # two equal batches: the running mean is the data mean; one batch: the running variance is its unbiased variance
    assert reestimate_batch_norm(net, [(data[:32], None), (data[32:], None)], torch.device("cpu")) == 1
    torch.testing.assert_close(net.bn1.running_mean, conv1.mean((0, 2, 3)), rtol=1e-5, atol=1e-5)
    reestimate_batch_norm(net.eval(), [(data, None)], torch.device("cpu"))
    torch.testing.assert_close(net.bn1.running_var, conv1.transpose(0, 1).flatten(1).var(1), rtol=1e-4, atol=1e-5)
    assert net.bn1.momentum == 0.1 and not net.training and not net.bn1.training
    assert all(torch.equal(tensor, weights[name]) for name, tensor in net.named_parameters())


def test_finetune_with_reestimated_statistics_recovers_a_frozen_batch_norm_that_silenced_the_features():
    torch.manual_seed(0)
    net = TinyConvNet()
    net.bn1.running_mean.fill_(1e3)  # stale statistics: relu(bn1(x)) is 0 for every image
    train, test = colour_task(96, 0), colour_task(60, 1)
    stale = finetune(net, train, test, **FAST, freeze=["conv1", "bn1"])
    fixed = finetune(net, train, test, **FAST, freeze=["conv1", "bn1"], reestimate_bn=True)
    assert stale["test_acc"] < 0.5 < 0.8 < fixed["test_acc"]  # chance is 1/3
    assert fixed["settings"]["reestimate_bn"] and not stale["settings"]["reestimate_bn"]
    assert torch.equal(net.bn1.running_mean, torch.full((8,), 1e3))  # the caller's backbone is untouched


class PooledNormNet(TinyConvNet):
    """TinyConvNet with a BatchNorm1d on its pooled output: one sample alone cannot be normalised in training mode."""

    def __init__(self) -> None:
        super().__init__()
        self.bn_pool = nn.BatchNorm1d(8)

    def forward_taps(self, x: torch.Tensor, taps) -> dict[str, torch.Tensor]:
        out = super().forward_taps(x, ("conv1", "pool"))
        out["pool"] = self.bn_pool(out["pool"])
        return {tap: out[tap] for tap in taps}


def test_the_batch_norm_pass_leaves_out_a_lone_last_image():
    net = PooledNormNet()
    result = finetune(net, colour_task(33, 0), colour_task(30, 1), epochs=1, batch_size=16, reestimate_bn=True)
    assert result["settings"]["num_train"] == 33  # 16 + 16 + 1: the lone image is left out of the BN pass


def test_saved_network_reproduces_the_reported_test_accuracy(tmp_path):
    torch.manual_seed(0)
    test_set = colour_task(60, 1)
    result = finetune(TinyConvNet(), colour_task(96, 0), test_set, save_to=tmp_path / "ft.pt", **FAST)
    saved = torch.load(result["heads_path"], weights_only=True)
    backbone = TinyConvNet().eval()
    backbone.load_state_dict(saved["backbone"])
    head = nn.Linear(8, 3)
    head.load_state_dict(saved["head"])
    with torch.no_grad():
        logits = head(backbone(test_set.images).flatten(1))
    accuracy = (logits.argmax(1) == test_set.labels).float().mean().item()
    assert accuracy == pytest.approx(result["test_acc"]) and saved["settings"]["epochs"] == FAST["epochs"]
