"""conv_bn_relu_pool against torch's own Conv3d → BatchNorm3d → ReLU → MaxPool3d modules."""

import pytest
import torch
from torch import nn

from transformrec.functional import lean_conv_block
from transformrec.functional.lean_conv_block import conv_bn_relu_pool


def _modules(in_ch: int, out_ch: int, momentum: float | None = 0.1):
    torch.manual_seed(0)
    conv = nn.Conv3d(in_ch, out_ch, 3, padding=1, bias=False).double()
    norm = nn.BatchNorm3d(out_ch, momentum=momentum).double()
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.3, 0.3)
    return conv, norm


@pytest.mark.parametrize("pool", [(1, 2, 2), (2, 2, 2), None])
@pytest.mark.parametrize("recompute", [False, True])
@pytest.mark.parametrize("shape", [(4, 8, 8), (5, 7, 9)])  # the second leaves rows outside every window
@pytest.mark.parametrize("clips_per_chunk", [3, 1, 2])  # in both passes: the whole batch, one clip, 2 + 1 clips
@pytest.mark.parametrize("zero_gamma", [False, True])  # a channel with gamma = 0: sums read another way
def test_values_running_statistics_and_gradients_match_the_modules(
    pool, recompute, shape, clips_per_chunk, zero_gamma, monkeypatch
):
    chunk_bytes = clips_per_chunk * 5 * shape[0] * shape[1] * shape[2] * 8  # 5 float64 channels per clip
    monkeypatch.setattr(lean_conv_block, "_CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(lean_conv_block, "_FORWARD_CHUNK_BYTES", chunk_bytes)
    conv, norm = _modules(3, 5)
    reference_conv, reference_norm = _modules(3, 5)
    if zero_gamma:
        with torch.no_grad():
            norm.weight[1] = reference_norm.weight[1] = 0.0
    x = torch.randn(3, 3, *shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    upstream = None
    layers = [reference_conv, reference_norm, nn.ReLU()] + ([nn.MaxPool3d(pool, stride=pool)] if pool else [])
    x_ref = x.clone().requires_grad_(True)
    expected = nn.Sequential(*layers)(x_ref)
    upstream = torch.randn(expected.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    expected.backward(upstream)

    x_lean = x.clone().requires_grad_(True)
    out = conv_bn_relu_pool(x_lean, conv, norm, pool, recompute=recompute)
    out.backward(upstream)

    torch.testing.assert_close(out, expected, atol=1e-12, rtol=0)
    torch.testing.assert_close(norm.running_mean, reference_norm.running_mean, atol=1e-12, rtol=0)
    torch.testing.assert_close(norm.running_var, reference_norm.running_var, atol=1e-12, rtol=0)
    assert int(norm.num_batches_tracked) == int(reference_norm.num_batches_tracked) == 1
    torch.testing.assert_close(x_lean.grad, x_ref.grad, atol=1e-10, rtol=1e-8)
    torch.testing.assert_close(conv.weight.grad, reference_conv.weight.grad, atol=1e-10, rtol=1e-8)
    torch.testing.assert_close(norm.weight.grad, reference_norm.weight.grad, atol=1e-10, rtol=1e-8)
    torch.testing.assert_close(norm.bias.grad, reference_norm.bias.grad, atol=1e-10, rtol=1e-8)


def test_a_cumulative_batchnorm_average_is_kept_as_torch_keeps_it():
    conv, norm = _modules(2, 3, momentum=None)
    reference_conv, reference_norm = _modules(2, 3, momentum=None)
    for seed in range(3):
        x = torch.randn(2, 2, 2, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
        conv_bn_relu_pool(x, conv, norm, (1, 2, 2))
        reference_norm(reference_conv(x))
    torch.testing.assert_close(norm.running_var, reference_norm.running_var, atol=1e-12, rtol=0)


def test_the_first_block_of_c3d_keeps_a_fraction_of_what_the_modules_keep():
    """Bytes kept for the backward pass, counted with saved-tensor hooks (shared storage counted once)."""
    conv, norm = nn.Conv3d(3, 16, 3, padding=1, bias=False), nn.BatchNorm3d(16)
    x = torch.rand(2, 3, 8, 32, 32)

    def kept_bytes(run) -> int:
        storages: dict[int, int] = {}

        def pack(tensor):
            storages[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            run()
        return sum(storages.values()) - x.untyped_storage().nbytes()

    modules = kept_bytes(lambda: nn.MaxPool3d((1, 2, 2), stride=(1, 2, 2))(torch.relu_(norm(conv(x)))))
    lean = kept_bytes(lambda: conv_bn_relu_pool(x, conv, norm, (1, 2, 2), recompute=True))
    conv_output = 2 * 16 * 8 * 32 * 32 * 4
    assert modules >= 2.4 * conv_output  # conv output, ReLU output and int64 pool indices
    assert lean <= 0.6 * conv_output  # the pooled output (a quarter) and one byte per window


def test_convolutions_it_does_not_cover_are_refused():
    norm = nn.BatchNorm3d(4)
    with pytest.raises(ValueError, match="stride-1, bias-free"):
        conv_bn_relu_pool(torch.rand(1, 2, 2, 4, 4), nn.Conv3d(2, 4, 3, padding=1), norm, None)


def test_padding_named_by_a_string_is_refused():
    conv = nn.Conv3d(2, 4, 3, padding="same", bias=False)
    with pytest.raises(ValueError, match="padding in pixels"):
        conv_bn_relu_pool(torch.rand(1, 2, 2, 4, 4), conv, nn.BatchNorm3d(4), None)
