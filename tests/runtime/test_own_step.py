"""step_own_parameters: only the named network moves, by exactly one optimiser step of its own gradient."""

import torch

from transformrec.runtime.own_step import step_own_parameters


def test_only_the_own_parameters_get_a_gradient_and_move_by_one_sgd_step():
    own = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    other = torch.nn.Parameter(torch.tensor([3.0]))
    frozen = torch.nn.Parameter(torch.tensor([0.5]), requires_grad=False)
    loss = (own**2).sum() * other.squeeze() + frozen.squeeze()  # d/d own = 2·own·other = [6, -12]
    optimizer = torch.optim.SGD([own, frozen], lr=0.1)
    step_own_parameters(loss, [own, frozen], optimizer)
    torch.testing.assert_close(own.detach(), torch.tensor([1.0 - 0.6, -2.0 + 1.2]))
    assert own.grad is None  # cleared after the step
    assert other.grad is None  # in the graph, but not this network's to step
    assert frozen.item() == 0.5
