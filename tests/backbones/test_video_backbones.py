"""3D-CNN backbones: taps on clips, and torchvision-compatible weights for the video ResNets."""

import torch
import torchvision

from transformrec.backbones import build_backbone


def test_c3d_small_taps_keep_time_early_and_pool_at_the_end():
    net = build_backbone("c3d_small", width=0.125)
    clip = torch.randn(2, 3, 16, 32, 32)
    taps = net.forward_taps(clip, net.tap_names)
    assert taps["conv1"].shape == (2, 8, 16, 16, 16)  # first pooling is spatial only
    assert taps["conv2"].shape[2] == 8 and taps["conv4"].shape[2] == 2
    assert taps["pool"].shape == (2, net.feature_dim) and net(clip).shape == (2, net.feature_dim)


def test_video_resnets_load_into_plain_torchvision_models():
    for name, constructor in (
        ("r3d_18", torchvision.models.video.r3d_18),
        ("r2plus1d_18", torchvision.models.video.r2plus1d_18),
    ):
        net = build_backbone(name)
        reference = constructor(weights=None)
        missing, unexpected = reference.load_state_dict(net.state_dict(), strict=False)
        assert sorted(missing) == ["fc.bias", "fc.weight"] and not unexpected
        clip = torch.randn(1, 3, 8, 32, 32)
        reference.eval(), net.eval()
        features = net(clip)
        reference.fc = torch.nn.Identity()
        assert torch.allclose(features, reference(clip), atol=1e-5)


def test_c3d_small_trains_as_its_plain_modules_would():
    """A training step through the memory-lean blocks gives the gradients and running statistics of
    the same weights run as plain ``nn.Sequential`` modules (float64, so only rounding differs)."""
    torch.manual_seed(0)
    lean = build_backbone("c3d_small", width=0.125).double().train()
    plain = build_backbone("c3d_small", width=0.125).double().train()
    plain.load_state_dict(lean.state_dict())
    clip = torch.randn(2, 3, 8, 32, 32, dtype=torch.float64)
    lean(clip).square().sum().backward()
    features = clip
    for name in plain.tap_names[:-1]:
        features = torch.nn.Sequential(*getattr(plain, name))(features)  # the modules one by one
    features.mean(dim=(2, 3, 4)).square().sum().backward()
    for (name, a), (_, b) in zip(lean.named_parameters(), plain.named_parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-9, rtol=1e-7, msg=name)
    for (name, a), (_, b) in zip(lean.named_buffers(), plain.named_buffers(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0, msg=name)
    lean.eval(), plain.eval()
    torch.testing.assert_close(lean(clip), plain(clip), atol=1e-12, rtol=0)
