"""``BilevelOptimizer``: SGD (or any torch optimiser) fed with the re-weighted gradient of sec. 8.3.

Why a wrapper and not a new ``torch.optim.Optimizer``: the bilevel step changes *which*
gradient the optimiser sees, not how it moves the weights. At every step the k mini-batches
are split into one validation batch (the first) and k − 1 training batches; each training
gradient gets the weight ω̂_i of eq. 8.10, and ``Σ ω̂_i ∇ℓ_i`` (eq. 8.11) is written into
``.grad`` and handed to the wrapped optimiser (SGD with momentum 0.9 by default, as in sec. 8.3
and 8.4.1). The validation gradient only sets the weights; it is never applied. With the L¹
constraint the update keeps the magnitude of one mini-batch gradient, so existing learning-rate
schedules carry over unchanged (table 8.1 a).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils._pytree import tree_leaves, tree_map

from transformrec.bilevel.per_batch_grads import LossFn, Method, per_batch_grads, trainable_parameters
from transformrec.bilevel.weights import bilevel_weights


@dataclass
class BilevelStep:
    """What one step saw: the weights ω̂ (``(k-1,)`` or ``(k-1, layers)``), the k losses and outputs.

    ``applied`` is ``False`` when a loss was NaN/inf and the update was skipped.
    """

    weights: torch.Tensor
    losses: torch.Tensor
    outputs: Any
    applied: bool = True

    @property
    def train_loss(self) -> float:
        """Mean loss of the k − 1 training mini-batches (before the update)."""
        return float(self.losses[1:].mean())

    @property
    def validation_loss(self) -> float:
        """Loss of the validation mini-batch (before the update)."""
        return float(self.losses[0])


def stack_minibatches(batch: Any, k: int) -> Any:
    """Reshape every tensor of ``batch`` from ``(k·b, ...)`` to ``(k, b, ...)``: mini-batch i is rows i·b…(i+1)·b."""

    def split(t: Any) -> Any:
        if not isinstance(t, torch.Tensor):
            return t
        if t.shape[0] % k:
            raise ValueError(f"a batch of {t.shape[0]} rows cannot be split into {k} equal mini-batches")
        return t.reshape(k, t.shape[0] // k, *t.shape[1:])

    return tree_map(split, batch)


def split_bilevel_options(options: dict[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """Split a config's ``bilevel`` mapping into :class:`BilevelOptimizer` kwargs and the sampler's ``balanced``."""
    kwargs = dict(options or {})
    balanced = bool(kwargs.pop("balanced", True))
    return kwargs, balanced


def _layer_name(parameter_name: str) -> str:
    """The module owning a parameter (``""`` for the root module's own parameters)."""
    return parameter_name.rsplit(".", 1)[0] if "." in parameter_name else ""


class BilevelOptimizer:
    """Bilevel mini-batch re-weighting around a torch optimiser (sec. 8.2–8.3, eq. 8.10–8.11).

    Args:
        model: the network; its trainable parameters are the ones re-weighted.
        optimizer: the optimiser that applies the re-weighted gradient; ``None`` builds
            ``SGD(lr, momentum=0.9, weight_decay)`` over the trainable parameters (sec. 8.4.1).
        k: mini-batches compared per step (one validation, k − 1 training; sec. 8.3, k = 8 in sec. 8.4).
        mu: the thesis's μ (sec. 8.4.1 baseline: 0.01).
        lambda_: the thesis's λ (sec. 8.4.1 baseline: 1).
        over_lr: divide ``mu`` and ``lambda_`` by the current learning rate ε to get the μ̂ and λ̂ of
            eq. 8.10 (μ̂ = μ/ε, λ̂ = λ/ε, eq. 8.7; the default). ``False`` uses them as μ̂ and λ̂
            directly, as the authors' code does (``w_i = ⟨g_val, g_i⟩ / (‖g_i‖² + 0.01)``). Why the
            default: at 50 % label noise (``benchmarks/bilevel_noise.py``, 3 seeds) the thesis's
            reading gave +1.2 ± 0.5 points of clean test accuracy over the code's. It needs a
            positive learning rate.
        per_layer: one weight per mini-batch and layer, normalised per layer (table 8.1 b).
            A layer is a module: its weight and bias share one ω.
        l1_normalize: ``False`` drops the constraint |ω|₁ = 1 (table 8.1 a).
        same_dropout: compare the mini-batches under identical dropout masks (sec. 8.4.1);
            ``False`` gives every mini-batch its own mask (table 8.1 d).
        method: how the per-batch gradients are computed (``"vmap"`` or ``"loop"``, see
            :func:`~transformrec.bilevel.per_batch_grads.per_batch_grads`). vmap is the default
            on every device: on 2 CPU cores the two are within a few percent of each other
            (1.12–1.22× one plain backward over four measurements, CifarNet, k = 8,
            ``benchmarks/bilevel_noise.py``), so no CPU default is worth a second code path; on an
            accelerator one batched call replaces k small kernel launches per layer
            (``benchmarks/gpu_check.sh`` records both there).
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer | None = None,
        *,
        k: int = 8,
        mu: float = 0.01,
        lambda_: float = 1.0,
        per_layer: bool = False,
        l1_normalize: bool = True,
        same_dropout: bool = True,
        method: Method = "vmap",
        over_lr: bool = True,
        lr: float = 0.01,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
    ) -> None:
        if k < 2:
            raise ValueError(f"k must be at least 2 (one validation and one training mini-batch), got {k}")
        if method not in ("vmap", "loop"):
            raise ValueError(f"method must be 'vmap' or 'loop', got {method!r}")
        self.model = model
        params = trainable_parameters(model)
        if not params:
            raise ValueError("the model has no trainable parameters")
        if optimizer is None:
            optimizer = torch.optim.SGD(params.values(), lr=lr, momentum=momentum, weight_decay=weight_decay)
        self.optimizer = optimizer
        self.k, self.mu, self.lambda_, self.over_lr = k, mu, lambda_, over_lr
        self.per_layer, self.l1_normalize = per_layer, l1_normalize
        self.same_dropout, self.method = same_dropout, method
        layers = list(dict.fromkeys(_layer_name(name) for name in params))
        self.layer_names = layers
        self._layer_index = {name: layers.index(_layer_name(name)) for name in params}

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """The wrapped optimiser's parameter groups (learning rates live there)."""
        return self.optimizer.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state)

    def weights_from_grads(self, grads: dict[str, torch.Tensor]) -> torch.Tensor:
        """ω̂ of eq. 8.10 from per-batch gradients ``{name: k×shape}``; batch 0 is the validation batch."""
        dots, sq_norms = [], []
        for g in grads.values():
            train = g[1:].flatten(1)
            dots.append(train @ g[0].flatten())
            sq_norms.append(train.pow(2).sum(1))
        dot, sq = torch.stack(dots, 1), torch.stack(sq_norms, 1)  # (k-1, parameters)
        if self.per_layer:
            index = torch.tensor([self._layer_index[name] for name in grads], device=dot.device)
            shape = (dot.shape[0], len(self.layer_names))
            dot = torch.zeros(shape, dtype=dot.dtype, device=dot.device).index_add_(1, index, dot)
            sq = torch.zeros(shape, dtype=sq.dtype, device=sq.device).index_add_(1, index, sq)
        else:
            dot, sq = dot.sum(1), sq.sum(1)
        mu, lambda_ = self.mu, self.lambda_
        if self.over_lr:
            lr = float(self.optimizer.param_groups[0]["lr"])
            if lr <= 0:
                raise ValueError("over_lr divides mu and lambda_ by the learning rate, which is 0; pass over_lr=False")
            mu, lambda_ = mu / lr, lambda_ / lr
        return bilevel_weights(dot, sq, mu, lambda_, self.l1_normalize)

    def apply_weights(self, grads: dict[str, torch.Tensor], weights: torch.Tensor) -> None:
        """Write ``Σ_i ω̂_i ∇ℓ_i`` over the training batches (eq. 8.11) into each parameter's ``.grad``."""
        params = trainable_parameters(self.model)
        for name, g in grads.items():
            w = weights[:, self._layer_index[name]] if self.per_layer else weights
            params[name].grad = torch.tensordot(w.to(g.dtype), g[1:], dims=1)

    def step(self, loss_fn: LossFn, inputs: Any, targets: Any) -> BilevelStep:
        """One bilevel update from k stacked mini-batches (leading dimension k, see :func:`stack_minibatches`).

        ``loss_fn(model_output, targets_of_one_batch)`` returns the mean loss of one mini-batch.
        Mini-batch 0 is the validation batch. Returns the weights, the k losses and outputs. If any
        loss is not finite, no gradient is written and the wrapped optimiser does not step.
        """
        k = next(t.shape[0] for t in tree_leaves(inputs) if isinstance(t, torch.Tensor))
        if k != self.k:
            raise ValueError(f"expected {self.k} stacked mini-batches, got a leading dimension of {k}")
        result = per_batch_grads(
            self.model, loss_fn, inputs, targets, method=self.method, same_randomness=self.same_dropout
        )
        if not bool(torch.isfinite(result.losses).all()):
            nan = torch.full((self.k - 1,), float("nan"))
            return BilevelStep(weights=nan, losses=result.losses, outputs=result.outputs, applied=False)
        weights = self.weights_from_grads(result.grads)
        self.apply_weights(result.grads, weights)
        self.optimizer.step()
        return BilevelStep(weights=weights.detach(), losses=result.losses, outputs=result.outputs)
