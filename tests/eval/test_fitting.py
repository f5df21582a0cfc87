"""CrossEntropyUpdate: one update object for the linear probe and fine-tuning, plain or bilevel."""

import torch
import torch.nn.functional as F
from torch import nn

from transformrec.bilevel.balanced_sampler import BalancedBatchSampler
from transformrec.eval.fitting import CrossEntropyUpdate


def _model_and_data():
    torch.manual_seed(0)
    return nn.Linear(3, 2), torch.randn(16, 3), torch.arange(16) % 2


def test_plain_update_is_one_cross_entropy_step_of_the_optimiser():
    model, x, y = _model_and_data()
    reference = nn.Linear(3, 2)
    reference.load_state_dict(model.state_dict())
    step = CrossEntropyUpdate(model, torch.optim.SGD(model.parameters(), lr=0.1))
    assert step.sampler(y, 4, seed=0) is None  # the protocol keeps its own batch order
    loss = step(x, y)
    expected = F.cross_entropy(reference(x), y)
    expected.backward()
    with torch.no_grad():
        for parameter in reference.parameters():
            parameter -= 0.1 * parameter.grad
    assert torch.isclose(loss, expected.detach())
    assert all(torch.allclose(a, b) for a, b in zip(model.parameters(), reference.parameters(), strict=True))


def test_bilevel_update_chooses_balanced_batches_and_weights_k_minibatches():
    model, x, y = _model_and_data()
    step = CrossEntropyUpdate(model, torch.optim.SGD(model.parameters(), lr=0.1), {"k": 2, "balanced": True})
    sampler = step.sampler(y, 4, seed=0)
    assert isinstance(sampler, BalancedBatchSampler)
    batch = next(iter(sampler))
    assert len(batch) == 8  # k mini-batches of batch_size
    labels = y[torch.as_tensor(batch)].view(2, 4)
    assert torch.equal(labels[0].sort().values, labels[1].sort().values)  # identical label counts (Remark 1)
    before = [p.clone() for p in model.parameters()]
    loss = step(x[torch.as_tensor(batch)], y[torch.as_tensor(batch)])
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
