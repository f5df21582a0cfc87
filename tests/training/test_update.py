"""GradientUpdate: one SGD step on the weighted sum of the heads' mean cross-entropies (eq. 4.1)."""

import torch

from transformrec.runtime.distributed import DistributedContext
from transformrec.training.update import GradientSteps, GradientUpdate

ONE_PROCESS = DistributedContext(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))


class TwoHeads(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.tensor([[0.5, -1.0], [2.0, 0.25], [-0.5, 1.5]]))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = x @ self.weight.T  # B×3
        return {"rotation": logits, "warp": logits[:, :2]}


def _by_hand(weight: torch.Tensor, x: torch.Tensor, targets: dict[str, torch.Tensor], warp_weight: float):
    """−log softmax written out, averaged over samples with a target (−100 = none)."""
    logits = x @ weight.T

    def mean_ce(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        keep = t != -100
        z, t = z[keep], t[keep]
        return (torch.logsumexp(z, dim=1) - z.gather(1, t[:, None]).squeeze(1)).mean()

    return mean_ce(logits, targets["rotation"]) + warp_weight * mean_ce(logits[:, :2], targets["warp"])


def test_one_step_equals_sgd_on_the_loss_written_out():
    x = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7], [2.0, 1.0]])
    targets = {"rotation": torch.tensor([0, 2, 1, -100]), "warp": torch.tensor([-100, 1, 0, 1])}
    network = TwoHeads()
    reference = network.weight.detach().clone().requires_grad_(True)
    expected_loss = _by_hand(reference, x, targets, warp_weight=0.5)
    (grad,) = torch.autograd.grad(expected_loss, reference)
    update = GradientUpdate(torch.optim.SGD(network.parameters(), lr=0.1), ONE_PROCESS, head_weights={"warp": 0.5})
    result = update(network, x, targets)
    assert abs(result.loss - float(expected_loss.detach())) < 1e-6
    torch.testing.assert_close(network.weight.detach(), reference.detach() - 0.1 * grad)
    assert set(result.head_metrics) == {"loss/rotation", "acc/rotation", "loss/warp", "acc/warp"}


def test_a_non_finite_loss_updates_nothing():
    network = TwoHeads()
    before = network.weight.detach().clone()
    update = GradientUpdate(torch.optim.SGD(network.parameters(), lr=0.1), ONE_PROCESS)
    x = torch.tensor([[float("inf"), 1.0]])
    assert update(network, x, {"rotation": torch.tensor([0]), "warp": torch.tensor([1])}) is None
    torch.testing.assert_close(network.weight.detach(), before, atol=0, rtol=0)


def test_plain_gradient_steps_draw_one_batch_and_record_no_bilevel():
    steps = GradientSteps()
    assert steps.images_per_step(64) == 64 and steps.record() == {"bilevel": None} and steps.allows_amp
    steps.check_world_size(8)  # any number of processes
