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
