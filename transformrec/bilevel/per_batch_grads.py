"""The k per-mini-batch gradients one bilevel step needs (sec. 8.3), by ``torch.func`` or by a loop.

Why two methods: eq. 8.10 needs every mini-batch's gradient separately, not their sum, so a
plain ``loss.backward()`` on the concatenated batch is not enough. ``vmap(grad(...))`` over the
stacked mini-batches runs one vectorised forward/backward (each convolution sees the k·b
samples at once); the loop runs k ordinary forward/backward passes of b samples. Both give the
same numbers; which is faster depends on the model and the device, so ``benchmarks/bilevel_noise.py``
times both against one plain backward pass of the same k·b samples.

Dropout: with ``same_randomness=True`` (the default of sec. 8.4.1) every mini-batch is
compared under the same dropout mask: ``vmap(randomness="same")``, or the RNG state restored
before each pass of the loop. ``False`` draws independent masks (table 8.1 d).

Batch-norm running statistics: the loop updates them k times in a row, as k training steps
would; ``vmap`` updates k copies from the same start and keeps their mean, which equals one
update with the mean of the k batch statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn
from torch.func import functional_call, grad, vmap
from torch.utils._pytree import tree_map

LossFn = Callable[[Any, Any], torch.Tensor]
Method = Literal["vmap", "loop"]


@dataclass
class PerBatchGrads:
    """Gradients ``{name: k×shape}`` of the trainable parameters, losses ``(k,)``, stacked model outputs."""

    grads: dict[str, torch.Tensor]
    losses: torch.Tensor
    outputs: Any


def trainable_parameters(model: nn.Module) -> dict[str, nn.Parameter]:
    """Named parameters with ``requires_grad`` (frozen ones are neither differentiated nor updated)."""
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def _select(tree: Any, index: int) -> Any:
    return tree_map(lambda t: t[index] if isinstance(t, torch.Tensor) else t, tree)


def _stack(trees: list[Any]) -> Any:
    return tree_map(lambda *ts: torch.stack(ts), *trees) if trees else None


def _grads_loop(model: nn.Module, loss_fn: LossFn, inputs: Any, targets: Any, k: int, same: bool) -> PerBatchGrads:
    params = trainable_parameters(model)
    names, tensors = list(params), list(params.values())
    cuda = [torch.cuda.current_device()] if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    cpu_state = torch.get_rng_state()
    cuda_states = [torch.cuda.get_rng_state(d) for d in cuda]
    per_batch: list[tuple[torch.Tensor, ...]] = []
    losses, outputs = [], []
    for i in range(k):
        if same:  # replay the RNG so that dropout draws the same mask for every mini-batch
            torch.set_rng_state(cpu_state)
            for device, state in zip(cuda, cuda_states, strict=True):
                torch.cuda.set_rng_state(state, device)
        output = model(_select(inputs, i))
        loss = loss_fn(output, _select(targets, i))
        per_batch.append(torch.autograd.grad(loss, tensors, allow_unused=True))
        losses.append(loss.detach())
        outputs.append(tree_map(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, output))
    grads = {
        name: torch.stack([g if g is not None else torch.zeros_like(p) for g in column])
        for name, p, column in zip(names, tensors, zip(*per_batch, strict=True), strict=True)
    }
    return PerBatchGrads(grads, torch.stack(losses), _stack(outputs))


def _grads_vmap(model: nn.Module, loss_fn: LossFn, inputs: Any, targets: Any, k: int, same: bool) -> PerBatchGrads:
    params = {name: p.detach() for name, p in trainable_parameters(model).items()}
    buffers = dict(model.named_buffers())
    # Each mini-batch updates its own copy of the buffers (batch-norm running statistics).
    copies = {name: b.detach().unsqueeze(0).expand(k, *b.shape).clone() for name, b in buffers.items()}

    def loss_of(p: dict[str, torch.Tensor], b: dict[str, torch.Tensor], x: Any, y: Any):
        output = functional_call(model, (p, b), (x,))
        loss = loss_fn(output, y)
        return loss, (loss.detach(), tree_map(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, output))

    batched = vmap(grad(loss_of, has_aux=True), in_dims=(None, 0, 0, 0), randomness="same" if same else "different")
    grads, (losses, outputs) = batched(params, copies, inputs, targets)
    with torch.no_grad():
        for name, buffer in buffers.items():
            updated = copies[name]
            buffer.copy_(updated.float().mean(0).to(buffer.dtype) if buffer.is_floating_point() else updated[0])
    return PerBatchGrads(grads, losses, outputs)


def per_batch_grads(
    model: nn.Module,
    loss_fn: LossFn,
    inputs: Any,
    targets: Any,
    *,
    method: Method = "vmap",
    same_randomness: bool = True,
) -> PerBatchGrads:
    """Gradient of ``loss_fn(model(inputs[i]), targets[i])`` for each of the k stacked mini-batches.

    ``inputs`` and ``targets`` are tensors (or pytrees of tensors) whose leading dimension k
    indexes the mini-batches; ``loss_fn`` returns a scalar (the mean loss of one mini-batch).
    ``method="vmap"`` needs a loss and model without data-dependent Python control flow (no
    ``if tensor.any()``, no ``.item()``); ``"loop"`` runs anything. The model's mode (train/eval)
    is the caller's; parameter ``.grad`` fields are left untouched.
    """
    leaves = [t for t in torch.utils._pytree.tree_leaves(inputs) if isinstance(t, torch.Tensor)]
    if not leaves:
        raise ValueError("inputs must contain at least one tensor")
    k = leaves[0].shape[0]
    if method == "vmap":
        return _grads_vmap(model, loss_fn, inputs, targets, k, same_randomness)
    if method == "loop":
        return _grads_loop(model, loss_fn, inputs, targets, k, same_randomness)
    raise ValueError(f"method must be 'vmap' or 'loop', got {method!r}")
