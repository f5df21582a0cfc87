"""Tests for transformrec.eval.features: pooling rule, extraction side effects, standardization."""

from __future__ import annotations

import pytest
import torch
from eval_fakes import TensorSet
from torch import nn
from torch.utils.data import Dataset

from transformrec.backbones.base import TappedBackbone
from transformrec.eval.features import (
    dataset_labels,
    dataset_num_classes,
    extract_features,
    pool_to_dim,
    pooled_size,
    standardization_stats,
)


class TwoTapNet(TappedBackbone):
    """conv (B×6×8×8 map, with batch-norm and dropout) and fc (B×5 vector)."""

    tap_names = ("conv", "fc")
    feature_dim = 5

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(6, 5)
        self.modes_seen: list[bool] = []

    def forward_taps(self, x: torch.Tensor, taps) -> dict[str, torch.Tensor]:
        self.modes_seen.append(self.training)
        conv = self.drop(torch.relu(self.bn(self.conv(x))))
        out = {"conv": conv, "fc": self.fc(conv.mean((2, 3)))}
        return {tap: out[tap] for tap in taps}


# Hand-derived sizes: s = round(sqrt(9216 / C)), each side clamped to the map's own size.
@pytest.mark.parametrize(
    ("shape", "expected_grid", "expected_dim"),
    [
        ((2, 256, 8, 8), (6, 6), 9216),  # sqrt(36) = 6 -> 256·36
        ((2, 96, 16, 16), (10, 10), 9600),  # sqrt(96) = 9.80 -> 10 -> 96·100
        ((2, 96, 55, 55), (10, 10), 9600),  # AlexNet conv1
        ((2, 384, 13, 13), (5, 5), 9600),  # sqrt(24) = 4.90 -> 5, AlexNet conv3/conv4
        ((2, 256, 13, 13), (6, 6), 9216),  # AlexNet conv5
        ((2, 256, 4, 4), (4, 4), 4096),  # never upsampled beyond 4×4
        ((2, 256, 13, 3), (6, 3), 4608),  # each side clamped separately
        ((2, 20000, 3, 3), (1, 1), 20000),  # sqrt(0.46) = 0.68 -> at least 1
    ],
)
def test_pool_to_dim_follows_the_hand_computed_size_rule(shape, expected_grid, expected_dim):
    assert pooled_size(*shape[1:]) == expected_grid
    assert pool_to_dim(torch.randn(shape)).shape == (shape[0], expected_dim)


def test_pool_to_dim_averages_blocks_and_keeps_vectors():
    fmap = torch.randn(2, 576, 8, 8)  # 9216 / 576 = 16 -> 4×4 grid of 2×2 blocks
    expected = fmap.view(2, 576, 4, 2, 4, 2).mean((3, 5)).flatten(1)
    torch.testing.assert_close(pool_to_dim(fmap), expected)
    vector = torch.randn(3, 4096)
    assert pool_to_dim(vector) is vector
    with pytest.raises(ValueError, match="B×C×H×W"):
        pool_to_dim(torch.randn(2, 3, 4))


def test_extract_features_uses_eval_mode_without_grads_and_restores_modes():
    torch.manual_seed(0)
    net = TwoTapNet().train()
    net.fc.eval()  # a mixed state must survive too
    running_mean = net.bn.running_mean.clone()
    data = TensorSet(torch.randn(10, 3, 8, 8), torch.arange(10) % 3, 3)

    feats, labels = extract_features(net, data, batch_size=4)

    assert net.modes_seen == [False, False, False]  # 3 batches, all in eval mode
    assert net.training and net.bn.training and not net.fc.training
    torch.testing.assert_close(net.bn.running_mean, running_mean)  # batch-norm statistics untouched
    assert set(feats) == {"conv", "fc"}
    assert feats["conv"].shape == (10, 6 * 8 * 8) and feats["fc"].shape == (10, 5)
    assert not feats["conv"].requires_grad and feats["conv"].grad_fn is None
    assert torch.equal(labels, torch.arange(10) % 3)
    net.eval()
    with torch.no_grad():
        reference = net.forward_taps(data.images, ["fc"])["fc"]
    torch.testing.assert_close(feats["fc"], reference)


def test_extract_features_restores_modes_when_forward_fails_and_checks_taps():
    net = TwoTapNet().train()
    with pytest.raises(KeyError, match="unknown taps"):
        extract_features(net, TensorSet(torch.randn(2, 3, 8, 8), torch.zeros(2), 1), taps=["conv9"])
    bad = TensorSet(torch.randn(2, 4, 8, 8), torch.zeros(2), 1)  # wrong channel count
    with pytest.raises(RuntimeError):
        extract_features(net, bad)
    assert all(module.training for module in net.modules())


def test_extract_features_selected_taps_only():
    feats, _ = extract_features(TwoTapNet(), TensorSet(torch.randn(3, 3, 8, 8), torch.zeros(3), 1), taps=["fc"])
    assert list(feats) == ["fc"]


def test_standardization_stats_use_population_std_and_guard_constant_dims():
    reference = torch.tensor([[1.0, 5.0], [3.0, 5.0]])
    mean, std = standardization_stats(reference)
    torch.testing.assert_close(mean, torch.tensor([2.0, 5.0]))
    torch.testing.assert_close(std, torch.tensor([1.0, 1.0]))  # population std 1; constant dim -> 1


def test_dataset_labels_and_num_classes_fall_back_to_iteration():
    class Plain(Dataset):
        def __len__(self) -> int:
            return 4

        def __getitem__(self, index: int):
            return torch.zeros(1), [0, 2, 1, 2][index]

    assert torch.equal(dataset_labels(Plain()), torch.tensor([0, 2, 1, 2]))
    assert dataset_num_classes(Plain()) == 3


@pytest.mark.parametrize(
    ("shape", "expected_grid"),
    [
        ((2, 128, 2, 2), (8, 8)),  # sqrt(72) = 8.49 -> 8: conv5 of a half-width AlexNet at 32 px, upsampled
        ((2, 48, 8, 8), (14, 14)),  # sqrt(192) = 13.86 -> 14
        ((2, 256, 13, 13), (6, 6)),  # larger maps are pooled down exactly as with resize="down"
        ((2, 64, 20, 4), (12, 12)),  # one side pooled down, the other upsampled
    ],
)
def test_resize_both_brings_every_map_to_the_square_target_grid(shape, expected_grid):
    assert pooled_size(*shape[1:], resize="both") == expected_grid
    assert pool_to_dim(torch.randn(shape), resize="both").shape == (2, shape[1] * expected_grid[0] * expected_grid[1])


def test_upsampling_keeps_constant_maps_constant_and_matches_pooling_when_shrinking():
    constant = torch.full((1, 64, 2, 2), 3.5)
    torch.testing.assert_close(pool_to_dim(constant, resize="both"), torch.full((1, 64 * 144), 3.5))
    large = torch.randn(2, 256, 13, 13)
    torch.testing.assert_close(pool_to_dim(large, resize="both"), pool_to_dim(large, resize="down"))
    with pytest.raises(ValueError, match="resize must be one of"):
        pooled_size(3, 4, 4, resize="up")
