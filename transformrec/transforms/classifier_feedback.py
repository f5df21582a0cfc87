"""How a learned transform asks the transformation classifier C how well it is fooled.

The LCI inpainter minimises −L_SSL (sec. 4.2.1): it needs C's loss on its own outputs, with
gradients flowing through C into the transform, but without disturbing C's training. Running C
in train mode on a batch of only transformed images would move its BatchNorm running
statistics towards that one class, so C runs on throw-away copies of its buffers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call


def call_with_scratch_buffers(module: nn.Module, inputs: torch.Tensor):
    """``module(inputs)`` in its current mode, with every buffer (BN running stats) replaced by a copy.

    Gradients still flow to ``inputs`` and to the module's parameters; the buffers the module
    keeps are left exactly as they were, and no saved tensor is modified after the forward.
    """
    scratch = {name: buffer.clone() for name, buffer in module.named_buffers()}
    return functional_call(module, scratch, (inputs,))


def classifier_loss(classifier: nn.Module, images: torch.Tensor, head: str, label: int) -> torch.Tensor:
    """Cross-entropy of C on ``images`` for class ``label`` of ``head``: the LCI term of L_SSL (eq. 4.1).

    Differentiable w.r.t. ``images``; C's BatchNorm statistics are left untouched.
    """
    logits = call_with_scratch_buffers(classifier, images)[head]
    target = torch.full((images.shape[0],), label, dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits.float(), target)
