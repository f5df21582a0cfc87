"""A 3D convolution block (conv → BatchNorm → ReLU → max-pool) whose backward keeps far less memory.

Why: chapter 5 trains C3D-small on 28 clips of 16×112×112 frames. Run as four autograd modules,
the first block alone keeps three full-resolution tensors for its backward pass (the convolution's
output for BatchNorm, the ReLU's output for ReLU and the pool, and the pool's int64 indices):
about 3.6 GB of the 6.5 GB a step keeps, so a step peaked at 7.6 GB. The same maths needs much
less if the block is one autograd function:

- the ReLU's mask is read from the pooled output (a window's gradient goes to its maximum, which
  passed the ReLU exactly when the pooled value is positive), which the next convolution keeps
  anyway;
- the pool's choice is kept as the maximum's position inside its window (one byte, not eight);
- BatchNorm's two batch sums for the backward pass are read from the pooled output too (where a
  window's maximum passed the ReLU, out = xhat·gamma + beta), so no pass at full resolution is
  needed before the gradient is formed;
- BatchNorm's input is either kept (``recompute=False``) or recomputed from the block's input in
  the backward pass (``recompute=True``, with BatchNorm then applied in place in the forward pass:
  for a block whose output is the largest);
- the backward pass runs a few clips at a time (``_CHUNK_BYTES``), so its full-resolution
  temporaries exist for those clips only;
- a large convolution output is computed in chunks (``_FORWARD_CHUNK_BYTES``), so oneDNN's copy of
  it in its own layout exists for one chunk only.

Forward values and running statistics are those of torch's BatchNorm (its own kernel when the
input is kept, the same formula in place when it is recomputed); gradients agree with the four
modules' to float rounding (ties inside a pooling window go to the first maximum, as in
``max_pool3d``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)

_CHANNEL = (slice(None), None, None, None)  # a per-channel vector broadcast over C×T×H×W
_CHUNK_BYTES = 1 << 25
"""Size of the full-resolution tensors the backward pass makes at once (32 MiB: one 64-channel clip
of 16×112×112 frames is 51 MiB, so C3D-small's first block goes clip by clip)."""
_FORWARD_CHUNK_BYTES = 1 << 28
"""Largest convolution output the forward pass computes in one call (256 MiB: five 64-channel clips
of 16×112×112 frames); see :func:`_chunked_conv3d`."""
_SMALLEST_GAMMA = 1e-6


def _window_offsets(shape: tuple[int, int, int], pool: tuple[int, int, int], device: torch.device) -> torch.Tensor:
    """Flat offsets (in a T×H×W plane) of the positions inside one window, in max_pool3d's scan order."""
    _, height, width = shape
    kt, kh, kw = pool
    t, h, w = torch.meshgrid(torch.arange(kt), torch.arange(kh), torch.arange(kw), indexing="ij")
    return (t * height * width + h * width + w).flatten().to(device)


def _window_starts(shape: tuple[int, int, int], pooled: tuple[int, int, int], pool, device) -> torch.Tensor:
    """Flat index of each window's first position, To×Ho×Wo."""
    _, height, width = shape
    kt, kh, kw = pool
    t = torch.arange(pooled[0], device=device)[:, None, None] * kt * height * width
    h = torch.arange(pooled[1], device=device)[None, :, None] * kh * width
    w = torch.arange(pooled[2], device=device)[None, None, :] * kw
    return t + h + w


def _pool_keeping_positions(out: torch.Tensor, pool: tuple[int, int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """``max_pool3d(out, pool)`` and, per window, its maximum's position inside it (uint8), a few
    clips at a time so that the int64 indices never exist for the whole batch."""
    plane = tuple(out.shape[2:])
    pooled_plane = tuple(size // k for size, k in zip(plane, pool, strict=True))
    pooled = out.new_empty(*out.shape[:2], *pooled_plane)
    local = torch.empty(pooled.shape, dtype=torch.uint8, device=out.device)
    starts = _window_starts(plane, pooled_plane, pool, out.device)
    offsets = _window_offsets(plane, pool, out.device)
    for rows in _row_chunks(out.shape[0], out[0].numel() * out.element_size()):
        pooled[rows], indices = F.max_pool3d(out[rows], pool, stride=pool, return_indices=True)
        local[rows] = torch.searchsorted(offsets, indices.sub_(starts), out_int32=True)
    return local, pooled


def _chunked_conv3d(x: torch.Tensor, weight: torch.Tensor, padding: tuple[int, int, int]) -> torch.Tensor:
    """``conv3d(x, weight)`` (stride 1), written a few clips at a time into one output tensor when
    that output is large.

    Why: on the CPU, oneDNN computes a whole-batch convolution in its own blocked layout and then
    reorders it into torch's, so the first block briefly held its 1.4 GB output twice: ch5_temporal's
    step peaked inside that convolution (3.9 GB; measured with an RSS sampler per block). In chunks of
    ``_FORWARD_CHUNK_BYTES`` the second copy is one chunk. Chunks much smaller than that made the
    convolution slower (clip by clip, 5.0 → 7.5 s for C3D-small's first block on one thread), so
    smaller outputs are computed whole.
    """
    plane = [size + 2 * pad - k + 1 for size, pad, k in zip(x.shape[2:], padding, weight.shape[2:], strict=True)]
    bytes_per_row = weight.shape[0] * math.prod(plane) * x.element_size()
    if x.shape[0] * bytes_per_row <= _FORWARD_CHUNK_BYTES:
        return F.conv3d(x, weight, None, 1, padding)
    out = x.new_empty(x.shape[0], weight.shape[0], *plane)
    for rows in _row_chunks(x.shape[0], bytes_per_row, _FORWARD_CHUNK_BYTES):
        out[rows] = F.conv3d(x[rows], weight, None, 1, padding)
    return out


def _batch_norm_in_place(conv, gamma, beta, running_mean, running_var, momentum: float, eps: float):
    """Training-mode BatchNorm written into ``conv``; running statistics updated as torch's BatchNorm
    updates them (the unbiased variance); returns (output, batch mean, 1/std)."""
    var, mean = torch.var_mean(conv, dim=(0, 2, 3, 4), correction=0)
    invstd = (var + eps).rsqrt()
    if running_mean is not None:
        count = conv.numel() // conv.shape[1]
        running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
        running_var.mul_(1 - momentum).add_(var * (count / max(count - 1, 1)), alpha=momentum)
    scale = invstd * gamma
    return conv.sub_(mean[_CHANNEL]).mul_(scale[_CHANNEL]).add_(beta[_CHANNEL]), mean, invstd


class _ConvBatchNormReluPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, gamma, beta, running_mean, running_var, momentum, eps, padding, pool, recompute):
        conv = _chunked_conv3d(x, weight, padding)
        if recompute:  # normalised in place: its input is recomputed in the backward pass
            out, mean, invstd = _batch_norm_in_place(conv, gamma, beta, running_mean, running_var, momentum, eps)
            kept = None
        else:
            out, mean, invstd = torch.ops.aten.native_batch_norm(
                conv, gamma, beta, running_mean, running_var, True, momentum, eps
            )
            kept = conv
        del conv
        out.clamp_(min=0)
        local = None
        if pool is not None:
            local, out = _pool_keeping_positions(out, pool)
        ctx.padding, ctx.pool, ctx.plane = padding, pool, tuple(x.shape[2:])
        ctx.save_for_backward(x, weight, gamma, beta, kept, mean, invstd, local, out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, gamma, beta, kept, mean, invstd, local, out = ctx.saved_tensors
        grad_pooled = grad_out * (out > 0)  # the ReLU's mask, read at each window's maximum
        count = out.shape[0] * math.prod(ctx.plane)  # values per channel in the batch statistics
        chunks = _row_chunks(out.shape[0], out.shape[1] * math.prod(ctx.plane) * out.element_size())
        windows = None
        if ctx.pool is not None:  # each window's first flat index and the offsets inside a window
            windows = (
                _window_starts(ctx.plane, tuple(out.shape[2:]), ctx.pool, out.device),
                _window_offsets(ctx.plane, ctx.pool, out.device),
            )
        grad_beta = grad_pooled.sum(dim=(0, 2, 3, 4))
        if bool((gamma.abs() > _SMALLEST_GAMMA).all()):
            # Where a window's maximum passed the ReLU, out = xhat·gamma + beta, so the sum over the
            # batch of grad·xhat is read from the pooled output alone: no pass over full resolution.
            grad_gamma = (grad_pooled * (out - beta[_CHANNEL])).sum(dim=(0, 2, 3, 4)) / gamma
        else:  # gamma ~ 0 in some channel: sum grad·xhat over the batch first, chunk by chunk
            grad_gamma = torch.zeros_like(gamma)
            for rows in chunks:
                dy = _unpool(grad_pooled[rows], local, rows, ctx.plane, windows)
                grad_gamma += (dy * _normalised(ctx, x, weight, kept, mean, invstd, rows)).sum(dim=(0, 2, 3, 4))
        scale, shift, slope = gamma * invstd, grad_beta / count, grad_gamma / count
        grad_x = torch.empty_like(x) if ctx.needs_input_grad[0] else None
        grad_weight = torch.zeros_like(weight)
        for rows in chunks:  # BatchNorm's and the convolution's backward, a few clips at a time
            dy = _unpool(grad_pooled[rows], local, rows, ctx.plane, windows)
            xhat = _normalised(ctx, x, weight, kept, mean, invstd, rows)
            # dL/dx of BatchNorm: gamma·invstd·(g − mean(g) − xhat·mean(g·xhat)), written into g
            dy.sub_(shift[_CHANNEL]).addcmul_(xhat, slope[_CHANNEL], value=-1).mul_(scale[_CHANNEL])
            del xhat
            chunk_grad_x, chunk_grad_weight, _ = torch.ops.aten.convolution_backward(
                dy,
                x[rows],
                weight,
                None,
                [1, 1, 1],
                list(ctx.padding),
                [1, 1, 1],
                False,
                [0, 0, 0],
                1,
                [grad_x is not None, True, False],
            )
            grad_weight += chunk_grad_weight
            if grad_x is not None:
                grad_x[rows] = chunk_grad_x
        return grad_x, grad_weight, grad_gamma, grad_beta, None, None, None, None, None, None, None


def _row_chunks(batch: int, bytes_per_row: int, chunk_bytes: int | None = None) -> list[slice]:
    """Slices of the batch whose full-resolution tensors hold about ``chunk_bytes`` (default
    ``_CHUNK_BYTES``; at least one clip)."""
    rows = max(1, (chunk_bytes or _CHUNK_BYTES) // max(bytes_per_row, 1))
    return [slice(start, min(start + rows, batch)) for start in range(0, batch, rows)]


def _unpool(grad_pooled: torch.Tensor, local, rows: slice, plane, windows) -> torch.Tensor:
    """The gradient at full resolution: each window's gradient at its maximum, zero elsewhere
    (``windows``: the window starts and offsets, None without pooling)."""
    if windows is None:
        return grad_pooled.clone()
    starts, offsets = windows
    batch, channels = grad_pooled.shape[:2]
    indices = starts + offsets[local[rows].long()]
    full = torch.zeros(batch, channels, *plane, dtype=grad_pooled.dtype, device=grad_pooled.device)
    full.view(batch, channels, -1).scatter_(
        2, indices.view(batch, channels, -1), grad_pooled.reshape(batch, channels, -1)
    )
    return full


def _normalised(ctx, x, weight, kept, mean, invstd, rows: slice) -> torch.Tensor:
    """BatchNorm's normalised input for ``rows``: from the kept convolution output, or recomputed."""
    if kept is not None:
        return (kept[rows] - mean[_CHANNEL]) * invstd[_CHANNEL]
    return F.conv3d(x[rows], weight, None, 1, ctx.padding).sub_(mean[_CHANNEL]).mul_(invstd[_CHANNEL])


def conv_bn_relu_pool(
    x: torch.Tensor,
    conv: torch.nn.Conv3d,
    norm: torch.nn.BatchNorm3d,
    pool: tuple[int, int, int] | None,
    recompute: bool = False,
) -> torch.Tensor:
    """``max_pool3d(relu(norm(conv(x))), pool)`` in training mode (batch statistics, running
    statistics updated as ``norm`` would), keeping little for the backward pass (module docstring).

    ``conv``: stride 1, no bias, no groups or dilation, padding in pixels; ``norm``: affine;
    ``pool``: kernel = stride, or None for no pooling. ``recompute``: recompute the convolution in
    the backward pass instead of keeping its output.
    """
    if conv.bias is not None or conv.stride != (1, 1, 1) or conv.groups != 1 or conv.dilation != (1, 1, 1):
        raise ValueError("conv_bn_relu_pool needs a stride-1, bias-free, ungrouped, undilated convolution")
    if isinstance(conv.padding, str):
        raise ValueError(f"conv_bn_relu_pool needs the convolution's padding in pixels, got '{conv.padding}'")
    if not norm.affine:
        raise ValueError("conv_bn_relu_pool needs an affine BatchNorm")
    momentum = 0.0 if norm.momentum is None else norm.momentum
    if norm.track_running_stats and norm.num_batches_tracked is not None:
        norm.num_batches_tracked.add_(1)
        if norm.momentum is None:  # a cumulative average, as torch's BatchNorm computes it
            momentum = 1.0 / float(norm.num_batches_tracked)
    return _ConvBatchNormReluPool.apply(
        x,
        conv.weight,
        norm.weight,
        norm.bias,
        norm.running_mean,
        norm.running_var,
        momentum,
        norm.eps,
        conv.padding,
        pool,
        recompute,
    )
