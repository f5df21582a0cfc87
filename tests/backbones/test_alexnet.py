"""AlexNetBN: the thesis classifier C (section 4.4) — layout, taps, registry."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from transformrec.backbones import AlexNetBN, build_backbone, list_backbones
from transformrec.backbones.alexnet import alexnet_spatial_sizes
from transformrec.registry import UnknownNameError

SMALL = {"width": 0.125, "fc_dim": 32}


def small_alexnet(**kwargs: object) -> AlexNetBN:
    return AlexNetBN(**{**SMALL, **kwargs}).eval()


# SAME padding, no pool5: 64 px -> conv1 16 (stride 4), pool 8, conv2 8, pool 4, conv3..5 4.
# 32 px halves each map. Standard 224 px layout: 55, 27, 13, 13, 13 (pool5 6).
@pytest.mark.parametrize(
    ("image_size", "low_resolution", "expected"),
    [
        (64, True, {"conv1": 16, "conv2": 8, "conv3": 4, "conv4": 4, "conv5": 4}),
        (32, True, {"conv1": 8, "conv2": 4, "conv3": 2, "conv4": 2, "conv5": 2}),
        (224, False, {"conv1": 55, "conv2": 27, "conv3": 13, "conv4": 13, "conv5": 13}),
    ],
)
def test_tap_shapes_match_hand_computed_sizes(image_size: int, low_resolution: bool, expected: dict[str, int]) -> None:
    model = small_alexnet(image_size=image_size, low_resolution=low_resolution)
    taps = model.forward_taps(torch.randn(2, 3, image_size, image_size), model.tap_names)
    assert list(taps) == list(model.tap_names)
    for name, side in expected.items():
        assert taps[name].shape == (2, model.channels[int(name[-1]) - 1], side, side), name
    assert taps["fc6"].shape == taps["fc7"].shape == (2, 32)
    assert model.feature_dim == 32


def test_spatial_sizes_include_pool5_only_when_kept() -> None:
    assert alexnet_spatial_sizes(64, low_resolution=True)["pool5"] == 4  # pool5 removed: equals conv5
    assert alexnet_spatial_sizes(224, low_resolution=False)["pool5"] == 6  # the classic 6x6x256


def test_too_small_image_is_rejected_at_construction() -> None:
    with pytest.raises(ValueError, match="too small"):
        AlexNetBN(image_size=32, low_resolution=False, **SMALL)


def test_input_of_wrong_size_names_the_built_image_size() -> None:
    model = small_alexnet(image_size=64)
    with pytest.raises(ValueError, match="image_size=64"):
        model(torch.randn(2, 3, 32, 32))


def test_batchnorm_follows_every_conv_fc6_fc7_and_there_is_no_lrn() -> None:
    model = small_alexnet()
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in model.modules())
    for name in model.tap_names:
        stage = list(model.stages[name].children())
        layer = next(i for i, m in enumerate(stage) if isinstance(m, (nn.Conv2d, nn.Linear)))
        assert isinstance(stage[layer + 1], (nn.BatchNorm2d, nn.BatchNorm1d)), name
        assert isinstance(stage[layer + 2], nn.ReLU), name
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    batchnorms = [m for m in model.modules() if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d))]
    assert len(layers) == len(batchnorms) == 7  # no final classifier inside the backbone


def test_low_resolution_uses_same_padding_and_drops_pool5() -> None:
    model = small_alexnet(low_resolution=True)
    convs = [model.stages[f"conv{i}"].conv for i in range(1, 6)]
    assert [c.padding[0] for c in convs] == [c.kernel_size[0] // 2 for c in convs]
    assert all(p.padding == 1 for p in model.modules() if isinstance(p, nn.MaxPool2d))
    assert not any(isinstance(m, nn.MaxPool2d) for m in model.stages["fc6"])
    standard = small_alexnet(low_resolution=False, image_size=224)
    assert any(isinstance(m, nn.MaxPool2d) for m in standard.stages["fc6"])


def test_krizhevsky_channels_and_two_stream_groups() -> None:
    model = AlexNetBN(fc_dim=8)  # width 1.0: the original channel counts
    assert model.channels == (96, 256, 384, 384, 256)
    weights = {i: model.stages[f"conv{i}"].conv.weight.shape for i in range(1, 6)}
    assert weights[1] == (96, 3, 11, 11)
    assert weights[2] == (256, 48, 5, 5)  # groups=2: each stream sees half of conv1
    assert weights[3] == (384, 256, 3, 3)  # conv3 connects both streams
    assert weights[4] == (384, 192, 3, 3)
    assert weights[5] == (256, 192, 3, 3)
    single = AlexNetBN(fc_dim=8, groups=1, width=0.25)
    assert single.stages["conv2"].conv.weight.shape == (64, 24, 5, 5)


def test_width_scales_channels_to_a_multiple_of_groups() -> None:
    model = AlexNetBN(width=0.5, fc_dim=8)
    assert model.channels == (48, 128, 192, 192, 128)
    odd = AlexNetBN(width=0.07, fc_dim=8, groups=2)  # 96*0.07 = 6.72 -> 6, 256*0.07 = 17.9 -> 18
    assert all(c % 2 == 0 and c > 0 for c in odd.channels)
    assert odd.channels[0] == 6 and odd.channels[1] == 18
    odd(torch.randn(2, 3, 64, 64))  # grouped convs accept the rounded widths


def test_in_channels_sets_conv1_input() -> None:
    model = small_alexnet(in_channels=1, image_size=32)
    assert model.stages["conv1"].conv.in_channels == 1
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 32)


def test_forward_equals_last_tap() -> None:
    model = small_alexnet()
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), model.forward_taps(x, ["fc7"])["fc7"])


def test_forward_taps_stops_after_last_requested_tap() -> None:
    model = small_alexnet()
    ran: list[str] = []
    for name, stage in model.stages.items():
        stage.register_forward_hook(lambda *_, name=name: ran.append(name))
    taps = model.forward_taps(torch.randn(2, 3, 64, 64), ["conv3", "conv1"])
    assert ran == ["conv1", "conv2", "conv3"]
    assert list(taps) == ["conv3", "conv1"]


def test_unknown_tap_error_lists_available_taps() -> None:
    with pytest.raises(KeyError, match="available.*conv1.*fc7"):
        small_alexnet().forward_taps(torch.randn(2, 3, 64, 64), ["pool5"])


def test_build_by_name_through_registry() -> None:
    assert "alexnet_bn" in list_backbones()
    model = build_backbone("alexnet_bn", width=0.125, fc_dim=16, image_size=32)
    assert isinstance(model, AlexNetBN)
    assert model.feature_dim == 16 and model.image_size == 32


def test_unknown_backbone_error_lists_known_names() -> None:
    with pytest.raises(UnknownNameError, match="alexnet_bn.*resnet18") as error:
        build_backbone("alexnet")
    assert isinstance(error.value, KeyError)


def test_taps_are_not_overwritten_by_later_in_place_ops() -> None:
    model = small_alexnet()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        together = model.forward_taps(x, model.tap_names)
        for name in model.tap_names:
            assert torch.equal(together[name], model.forward_taps(x, [name])[name]), name


def test_the_chapter_3_classifier_has_batch_norm_only_after_conv5_and_one_fc_layer():
    # Sec. 3.3.3: "Batch normalization is only applied after conv5 ... we remove the second fully-connected layer."
    net = AlexNetBN(width=0.25, fc_dim=64, image_size=32, batch_norm="conv5", fc_layers=1)
    norms = {
        name.split(".")[0] for name, module in net.stages.named_modules() if isinstance(module, torch.nn.BatchNorm2d)
    }
    assert norms == {"conv5"}
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in net.modules())
    assert (
        all(net.stages[f"conv{i}"].conv.bias is not None for i in range(1, 5)) and net.stages["conv5"].conv.bias is None
    )
    taps = net.forward_taps(torch.rand(2, 3, 32, 32), ["fc6", "fc7"])
    assert torch.equal(taps["fc6"], taps["fc7"]) and taps["fc7"].shape == (2, 64)
    with pytest.raises(ValueError, match="batch_norm must be one of"):
        AlexNetBN(batch_norm="fc")
    with pytest.raises(ValueError, match="fc_layers"):
        AlexNetBN(fc_layers=3)


def test_the_chapter_3_classifier_sees_its_input_with_the_authors_scale_and_init():
    """BN only after conv5: with [0, 1] inputs conv4's pre-activations barely vary across images
    (their spread is below the mean |bias|); x·255 − mid-grey and the authors' init fix it."""
    images = torch.rand(32, 3, 64, 64, generator=torch.Generator().manual_seed(0))

    def spread_over_bias(**options) -> float:
        torch.manual_seed(0)
        net = AlexNetBN(width=0.5, fc_dim=256, batch_norm="conv5", fc_layers=1, image_size=64, **options)
        conv = net.stages["conv4"].conv
        seen = []
        handle = conv.register_forward_hook(lambda module, inputs, output: seen.append(output))
        with torch.no_grad():
            net(images)
        handle.remove()
        return float((seen[0].std(0).mean() / conv.bias.abs().mean()).detach())

    assert spread_over_bias() < 1
    assert spread_over_bias(input_scale=255.0, init="authors") > 5


def test_authors_init_is_glorot_uniform_with_biases_0_1():
    net = AlexNetBN(width=0.5, fc_dim=256, batch_norm="conv5", fc_layers=1, image_size=64, init="authors")
    conv = net.stages["conv3"].conv
    fan_in, fan_out = conv.weight.shape[1] * 9, conv.weight.shape[0] * 9
    bound = (6 / (fan_in + fan_out)) ** 0.5
    largest = float(conv.weight.detach().abs().max())
    assert 0.9 * bound < largest <= bound
    assert torch.equal(conv.bias, torch.full_like(conv.bias, 0.1))
    with pytest.raises(ValueError, match="init"):
        AlexNetBN(init="xavier")
