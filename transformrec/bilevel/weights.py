"""The mini-batch weights of deep bilevel learning (thesis eq. 8.10), as a pure function.

Why a pure function on dot products: eq. 8.10 only needs, for every training mini-batch i, the
inner product of its gradient with the validation gradient and its squared norm. Computing those
numbers is the expensive part (see :mod:`transformrec.bilevel.per_batch_grads`); turning them into
weights is cheap, and keeping it separate lets the formula be tested against hand-computed values.
"""

from __future__ import annotations

import torch


def bilevel_weights(
    dots: torch.Tensor,
    sq_norms: torch.Tensor,
    mu: float = 0.01,
    lambda_: float = 1.0,
    l1_normalize: bool = True,
) -> torch.Tensor:
    """Weights ω̂_i of the training mini-batches from eq. 8.10.

    ``ω_i = (∇ℓ_v·∇ℓ_i) / (|∇ℓ_i|² / λ̂ + μ̂)`` followed by ``ω̂ = ω / |ω|₁`` (the L¹ constraint
    of eq. 8.3). ``mu`` and ``lambda_`` are the μ̂ and λ̂ of eq. 8.10; the thesis's ablation
    baseline (sec. 8.4.1) uses μ = 0.01 and λ = 1. A training gradient that disagrees with the
    validation gradient (negative inner product) gets a negative weight; an orthogonal one gets 0.

    Args:
        dots: inner products ``∇ℓ_v·∇ℓ_i``, shape ``(T,)`` for one weight per mini-batch or
            ``(T, L)`` for one weight per mini-batch and layer (table 8.1 b; each layer's weights
            are L¹-normalised separately, over the mini-batch dimension).
        sq_norms: ``|∇ℓ_i|²`` with the same shape as ``dots``.
        mu, lambda_: μ̂ > 0 keeps the denominator away from 0; λ̂ > 0 scales the gradient norm.
        l1_normalize: ``False`` skips the normalisation (table 8.1 a).

    Returns the weights with the shape of ``dots``. When every weight of a column is exactly 0
    (all gradients orthogonal to the validation gradient) the column stays 0 instead of NaN.
    """
    if dots.shape != sq_norms.shape:
        raise ValueError(f"dots {tuple(dots.shape)} and sq_norms {tuple(sq_norms.shape)} must have the same shape")
    if lambda_ <= 0:
        raise ValueError(f"lambda_ must be positive, got {lambda_}")
    if mu < 0:
        raise ValueError(f"mu must be non-negative, got {mu}")
    weights = dots / (sq_norms / lambda_ + mu)
    if not l1_normalize:
        return weights
    total = weights.abs().sum(dim=0, keepdim=True)
    return torch.where(total > 0, weights / total.clamp_min(torch.finfo(weights.dtype).tiny), torch.zeros_like(weights))
