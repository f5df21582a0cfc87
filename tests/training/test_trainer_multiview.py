"""The Trainer on multi-view data: eq. 6.1 as the multi-head loss, and bit-exact resume."""

import torch

from transformrec.backbones import build_backbone
from transformrec.data.multiview_folder import MultiViewFolder
from transformrec.data.multiview_pairs import MultiViewPairs
from transformrec.training import Trainer
from transformrec.training.loss import multi_head_loss


def _trainer(root, out, **kwargs):
    torch.manual_seed(0)
    options = dict(epochs=1, batch_size=4, device="cpu", progress=False, tensorboard=False)
    options.update(kwargs)
    return Trainer(
        transforms=["sync", "flip"],
        backbone=build_backbone("siamese", trunk="resnet18"),
        data=MultiViewFolder(root, subjects=["S1"], actions=["walk"], background="remove"),
        output_dir=out,
        **options,
    )


def test_multi_head_loss_is_eq_6_1_with_no_sync_term_on_flipped_pairs(multiview_root, tmp_path):
    trainer = _trainer(multiview_root, tmp_path)
    assert isinstance(trainer.data, MultiViewPairs)
    batch = [trainer.data[i] for i in (0, 5, 9)]
    inputs = torch.stack([pairs for pairs, _ in batch]).flatten(0, 1)  # 3 anchors × (p, n, f)
    targets = {h: torch.stack([t[h] for _, t in batch]).flatten() for h in ("sync", "flip")}
    trainer.model.eval()
    with torch.no_grad():
        logits = trainer.model(inputs)
    loss, _ = multi_head_loss(logits, targets)
    heads = trainer.transform_set.heads
    f1 = logits["sync"].softmax(-1)[:, heads["sync"].index("synchronized")].view(3, 3)  # P(synchronized)
    f2 = logits["flip"].softmax(-1)[:, heads["flip"].index("not_flipped")].view(3, 3)  # P(no flip)
    p, n, f = 0, 1, 2
    eq_6_1 = -(torch.log(f1[:, p] * f2[:, p]) + torch.log(1 - f1[:, n]) + torch.log(1 - f2[:, f])).sum()
    assert torch.allclose(loss, eq_6_1 / (2 * 3), atol=1e-5)  # each head averages over its 2 pairs per anchor
    # changing the sync logits of flipped pairs leaves the loss unchanged: no F1 term on x_f
    logits["sync"].view(3, 3, 2)[:, f] += torch.tensor([5.0, -5.0])
    assert torch.allclose(multi_head_loss(logits, targets)[0], loss)


def test_multiview_training_resumes_bit_for_bit(multiview_root, tmp_path):
    full = _trainer(multiview_root, tmp_path / "full")
    full.fit()
    _trainer(multiview_root, tmp_path / "cut", max_steps=4).fit()  # mid-epoch: the checkpoint ends the run
    resumed = _trainer(multiview_root, tmp_path / "cut", resume=True)
    summary = resumed.fit()
    assert summary["resumed_from_step"] == 4 and summary["steps"] == full.step == 6
    for name, tensor in full.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name
    assert {"acc/sync", "acc/flip"} <= set(summary["final_metrics"])
