"""Deep bilevel learning (thesis chapter 8): mini-batch re-weighting against a validation batch.

``BilevelOptimizer`` computes the k per-batch gradients of a step, weights the k − 1 training
gradients by their agreement with the validation gradient (eq. 8.10) and hands the sum to a
wrapped optimiser; ``BalancedBatchSampler`` draws the k mini-batches with identical label
distributions (Remark 1).
"""

from transformrec.bilevel.balanced_sampler import BalancedBatchSampler, balanced_partition
from transformrec.bilevel.optimizer import BilevelOptimizer, BilevelStep, stack_minibatches
from transformrec.bilevel.per_batch_grads import PerBatchGrads, per_batch_grads
from transformrec.bilevel.weights import bilevel_weights

__all__ = [
    "BalancedBatchSampler",
    "BilevelOptimizer",
    "BilevelStep",
    "PerBatchGrads",
    "balanced_partition",
    "bilevel_weights",
    "per_batch_grads",
    "stack_minibatches",
]
