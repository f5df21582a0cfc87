"""One optimiser step of a network inside a larger graph: the update every learned transform makes.

Why its own function: a learned transform's loss (LCI's inpainter, damage & repair's repair
network) runs through the transformation classifier C and, for LCI, the discriminator D, whose
parameters are in the graph but are not the transform's to step. ``loss.backward()`` would leave
gradients on them that leak into their own steps. Differentiating with respect to the network's
own parameters only, averaging them across torchrun ranks, then stepping, is the same block for
every learned transform, so it is written once.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from transformrec.runtime.distributed import average_gradients


def step_own_parameters(
    loss: torch.Tensor, parameters: Iterable[torch.nn.Parameter], optimizer: torch.optim.Optimizer
) -> None:
    """Set ``.grad`` of the trainable ``parameters`` to ∂loss/∂θ (nothing else in the graph gets a
    gradient), average them across ranks, step ``optimizer`` and clear the gradients."""
    own = [p for p in parameters if p.requires_grad]
    for parameter, grad in zip(own, torch.autograd.grad(loss, own), strict=True):
        parameter.grad = grad
    average_gradients(own)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
