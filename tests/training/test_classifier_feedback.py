"""Learned transforms are fed back by the classifier as it is trained: inside the step's mixed batch.

Sec. 4.2.1's −L_SSL (and eq. 3.4's min–max) only bite if the inpainter sees the classifier C that
is being trained. In train mode BatchNorm normalises with the batch's statistics, so C evaluated on
a batch of only LCI images is another function than C on the mixed batch it trains on.
"""

import torch
from conftest import TinyImages, TinyNet

from transformrec.training import Trainer
from transformrec.transforms import Identity, LimitedContextInpainting, Rotation


class _Recorder:
    """Forward hook on the classifier's ``transform`` head: the logits of every call, in order."""

    def __init__(self, head: torch.nn.Module) -> None:
        self.calls: list[torch.Tensor] = []
        self.handle = head.register_forward_hook(lambda _m, _i, out: self.calls.append(out.detach()))


def test_lci_sees_c_recognise_its_images_as_c_does_in_the_training_batch(tmp_path):
    torch.manual_seed(0)
    lci = LimitedContextInpainting(channels=1, width=4, patch_size=0.5)
    trainer = Trainer(
        transforms=[Identity(), Rotation(), lci],
        backbone=TinyNet(),
        data=TinyImages(n=256),
        epochs=8,
        batch_size=32,
        lr=3e-3,
        device="cpu",
        progress=False,
        tensorboard=False,
    )
    trainer.fit()  # C learns to recognise the classes, LCI included
    label = trainer.transform_set.heads["transform"].index("lci")
    recorder = _Recorder(trainer.model.heads["transform"])
    images = TinyImages(n=128, seed=5).images  # 128 LCI rows: the two views' shares differ by sampling alone
    trainer.model.train()
    trainer._train_step(trainer.model, images)
    recorder.handle.remove()
    feedback, training = recorder.calls[0], recorder.calls[-1]  # F's view, then C's own training forward
    seen_by_f = (feedback[-128:].argmax(1) == label).float().mean()  # the LCI rows F's loss is computed on
    in_batch = (training[-128:].argmax(1) == label).float().mean()  # class-major batch: LCI rows come last
    assert in_batch > 0.6  # C does recognise LCI images in the batch it trains on (chance: 1/6)
    assert abs(float(seen_by_f) - float(in_batch)) <= 0.1, (float(seen_by_f), float(in_batch))


class _LinearClassifier(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"transform": self.linear(x.flatten(1))}


def test_the_feedback_term_is_eq_4_1s_share_of_the_mixed_batch():
    from transformrec.transforms.classifier_feedback import MixedBatchFeedback

    torch.manual_seed(1)
    classifier = _LinearClassifier()
    inputs = torch.rand(12, 1, 4, 4)
    targets = {"transform": torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])}
    fresh = torch.rand(4, 1, 4, 4, requires_grad=True)  # the learned transform's outputs for class 2
    loss = MixedBatchFeedback(classifier, inputs, targets).loss(fresh, "transform", 2)
    # eq. 4.1: the class's summed cross-entropy over the whole batch's size (12), fresh rows in place of class 2
    logits = classifier.linear(fresh.flatten(1))
    expected = torch.nn.functional.cross_entropy(logits, torch.full((4,), 2), reduction="sum") / 12
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert fresh.grad is not None and fresh.grad.abs().sum() > 0  # the feedback reaches the transform


def test_several_classes_replaced_in_one_forward_weigh_as_eq_4_1():
    from transformrec.transforms.classifier_feedback import MixedBatchFeedback

    torch.manual_seed(2)
    classifier = _LinearClassifier()
    inputs = torch.rand(12, 1, 4, 4)
    targets = {"transform": torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])}
    fresh = {0: torch.rand(4, 1, 4, 4, requires_grad=True), 2: torch.rand(4, 1, 4, 4, requires_grad=True)}
    loss = MixedBatchFeedback(classifier, inputs, targets).rows_loss("transform", fresh)
    cross_entropy = torch.nn.functional.cross_entropy
    summed = sum(
        cross_entropy(classifier.linear(images.flatten(1)), torch.full((4,), label), reduction="sum")
        for label, images in fresh.items()
    )
    torch.testing.assert_close(loss, summed / 12)  # both classes' rows over the whole batch, class 1 untouched
    loss.backward()
    assert all(images.grad.abs().sum() > 0 for images in fresh.values())


def test_decoy_feedback_rebuilds_the_decoyed_classes_with_the_inpainters_gradient():
    from transformrec.transforms import Warp
    from transformrec.transforms.transform_set import TransformSet

    torch.manual_seed(3)
    lci = LimitedContextInpainting(channels=1, width=4, patch_size=0.5, decoy_feedback=True)
    transform_set = TransformSet([Identity(), Rotation(), Warp(), lci])
    classes = transform_set.heads["transform"]
    images = TinyImages(n=8).images
    rows = transform_set.decoyed_rows(lci, images, torch.Generator().manual_seed(0))
    # identity and the rotations carry decoys (sec. 4.2.4); warp and LCI's own class do not
    assert sorted(classes[label] for label in rows) == sorted(
        name for name in classes if name == "identity" or name.startswith("rot")
    )
    for label, row in rows.items():
        quarter_turns = 0 if classes[label] == "identity" else int(classes[label][3:]) // 90
        clean = torch.rot90(images, quarter_turns, dims=(-2, -1))  # the class's transform on undecoyed images
        changed = (row - clean).abs().flatten(1).amax(1) > 0
        assert int(changed.sum()) == 4  # half of the images carry a decoy
        side = 8  # the 0.5 patch of a 16 px image: nothing changes outside one 8x8 patch
        assert int(((row - clean).abs() > 0).flatten(1).sum(1).max()) <= side * side
    gradients = torch.autograd.grad(sum(row.sum() for row in rows.values()), list(lci.inpainter.parameters()))
    assert sum(float(g.abs().sum()) for g in gradients) > 0  # the decoys reach F
