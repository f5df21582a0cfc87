"""Dense heads (the ch. 3 mask head) in the multi-head loss: L_class + L_mask, by hand."""

import math

import torch

from transformrec.training.loss import global_multi_head_loss, multi_head_loss, multi_head_loss_value
from transformrec.transforms.base import IGNORE_INDEX


def _batch():
    g = torch.Generator().manual_seed(0)
    logits = {"transform": torch.randn(4, 2, generator=g), "mask": torch.randn(4, 2, 2, generator=g)}
    mask_target = torch.tensor([[[1, 0], [0, 1]], [[0, 0], [1, 1]]] + [[[IGNORE_INDEX] * 2] * 2] * 2)
    targets = {"transform": torch.tensor([1, 1, 0, 0]), "mask": mask_target}
    return logits, targets


def _by_hand(logits, targets):
    ce = -sum(math.log(torch.softmax(logits["transform"][i], 0)[targets["transform"][i]]) for i in range(4)) / 4
    terms = []
    for b in range(2):
        for i in range(2):
            for j in range(2):
                p = 1 / (1 + math.exp(-float(logits["mask"][b, i, j])))
                y = int(targets["mask"][b, i, j])
                terms.append(-(y * math.log(p) + (1 - y) * math.log(1 - p)))
    return ce, sum(terms) / len(terms)


def test_total_loss_is_class_cross_entropy_plus_mean_mask_bce_over_valid_cells():
    logits, targets = _batch()
    ce, bce = _by_hand(logits, targets)
    total, metrics = multi_head_loss(logits, targets)
    assert math.isclose(float(total), ce + bce, rel_tol=1e-5)
    assert math.isclose(metrics["loss/mask"], bce, rel_tol=1e-5)
    predicted = (logits["mask"][:2] > 0).long()
    assert math.isclose(metrics["acc/mask"], float((predicted == targets["mask"][:2]).float().mean()))
    assert math.isclose(float(multi_head_loss_value(logits, targets)), ce + bce, rel_tol=1e-5)
    _, value, global_metrics = global_multi_head_loss(logits, targets, world_size=1)
    assert math.isclose(value, ce + bce, rel_tol=1e-5) and math.isclose(global_metrics["loss/mask"], bce, rel_tol=1e-5)


def test_dense_logits_are_average_pooled_to_the_target_grid():
    logits, targets = _batch()
    fine = logits["mask"].repeat_interleave(2, 1).repeat_interleave(2, 2)  # 4×4, each 2×2 block constant
    _, metrics = multi_head_loss({"mask": fine}, {"mask": targets["mask"]})
    assert math.isclose(metrics["loss/mask"], _by_hand(logits, targets)[1], rel_tol=1e-5)


def test_a_dense_head_without_targets_contributes_nothing():
    logits, targets = _batch()
    targets["mask"] = torch.full((4, 1, 1), IGNORE_INDEX)
    total, metrics = multi_head_loss(logits, targets)
    assert "loss/mask" not in metrics
    assert math.isclose(float(total), _by_hand(logits, targets | {"mask": _batch()[1]["mask"]})[0], rel_tol=1e-5)


def test_a_head_weight_scales_that_heads_term_in_every_loss_and_leaves_its_logged_loss_unweighted():
    """The ch. 3 mask head enters the authors' loss with weight 0.1: total = CE + 0.1 · BCE."""
    logits, targets = _batch()
    ce, bce = _by_hand(logits, targets)
    weights = {"mask": 0.1}
    total, metrics = multi_head_loss(logits, targets, weights)
    assert math.isclose(float(total), ce + 0.1 * bce, rel_tol=1e-5)
    assert math.isclose(metrics["loss/mask"], bce, rel_tol=1e-5)
    assert math.isclose(float(multi_head_loss_value(logits, targets, weights)), ce + 0.1 * bce, rel_tol=1e-5)
    loss, value, _ = global_multi_head_loss(logits, targets, world_size=1, weights=weights)
    assert math.isclose(float(loss), ce + 0.1 * bce, rel_tol=1e-5) and math.isclose(value, ce + 0.1 * bce, rel_tol=1e-5)
