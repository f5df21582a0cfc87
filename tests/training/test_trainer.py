"""Trainer behaviour: it learns, resumes bit-for-bit, logs, checkpoints safely, calls learned transforms."""

import csv
import json
import math

import pytest
import torch
from conftest import TinyImages, TinyNet

from transformrec.training import BilevelSteps, NonFiniteLossError, Trainer, load_checkpoint
from transformrec.transforms import Identity, LearnedTransform, Rotation, TransformSet


def _trainer(tmp_path, **kwargs):
    # No crop + flip (the default since Python and YAML share it): padding 4 on these 16 px toys
    # moves the bright top rows that are their only cue to "up".
    options = dict(epochs=2, batch_size=16, device="cpu", progress=False, tensorboard=False, output_dir=tmp_path)
    options["augment"] = None
    options.update(kwargs)
    torch.manual_seed(0)  # identical initial weights in every run compared below
    return Trainer(transforms=[Identity(), Rotation()], backbone=TinyNet(), data=TinyImages(), **options)


def test_learns_to_recognise_rotations(tmp_path):
    trainer = _trainer(tmp_path, epochs=15, lr=3e-3, final_lr=1e-4)
    summary = trainer.fit()
    assert summary["steps"] == 15 * 4
    assert summary["final_metrics"]["acc/transform"] > 0.9  # chance is 0.25


def test_resume_after_interruption_reproduces_uninterrupted_weights(tmp_path):
    full = _trainer(tmp_path / "full", epochs=3)
    full.fit()
    first = _trainer(tmp_path / "cut", epochs=3, max_steps=5, checkpoint_every=2)
    first.fit()
    assert load_checkpoint(tmp_path / "cut" / "checkpoint.pt")["step"] == 5
    resumed = _trainer(tmp_path / "cut", epochs=3, resume=True)
    summary = resumed.fit()
    assert summary["resumed_from_step"] == 5 and summary["steps"] == 12
    for name, tensor in full.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name


def test_logs_csv_without_duplicate_steps_after_resume(tmp_path):
    _trainer(tmp_path, epochs=2, max_steps=5, log_every=1).fit()
    _trainer(tmp_path, epochs=2, log_every=1, resume=True).fit()
    with (tmp_path / "metrics.csv").open() as stream:
        steps = [float(row["step"]) for row in csv.DictReader(stream) if row.get("loss")]
    assert steps == [float(s) for s in range(1, 9)]


def test_outputs_summary_backbone_and_safe_checkpoint(tmp_path):
    summary = _trainer(tmp_path, epochs=1).fit()
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["heads"] == {"transform": ["identity", "rot90", "rot180", "rot270"]}
    assert written["steps"] == summary["steps"] == 4
    state = torch.load(tmp_path / "backbone.pt", weights_only=True)
    TinyNet().load_state_dict(state)
    checkpoint = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert {"model", "optimizer", "scheduler", "generator", "step"} <= set(checkpoint)
    assert not list(tmp_path.glob("*.tmp"))


def test_learning_rate_follows_cosine_from_3e4_to_3e7():
    trainer = _trainer(None, epochs=2)
    lrs = []
    original = trainer.scheduler.step

    def record():
        original()
        lrs.append(trainer.scheduler.get_last_lr()[0])

    trainer.scheduler.step = record
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(3e-4)
    assert trainer.optimizer.param_groups[0]["betas"] == (0.5, 0.99)
    assert trainer.optimizer.param_groups[0]["weight_decay"] == 1e-4
    trainer.fit()
    assert lrs[-1] == pytest.approx(3e-7)
    assert lrs[3] == pytest.approx(3e-7 + 0.5 * (3e-4 - 3e-7))  # half way: step 4 of 8


def test_a_length_in_steps_crosses_epochs_and_ends_the_cosine_at_its_last_step(tmp_path):
    """``steps=10`` on 4 batches per epoch: 10 steps over 3 epochs, lr 3e-7 after step 10 (closed form)."""
    summary = _trainer(tmp_path, steps=10, log_every=1).fit()
    assert summary["steps"] == 10
    with (tmp_path / "metrics.csv").open() as stream:
        logged = {int(float(row["step"])): row for row in csv.DictReader(stream) if row.get("loss")}
    assert sorted(logged) == list(range(1, 11))
    assert {float(row["epoch"]) for row in logged.values()} == {0.0, 1.0, 2.0}
    halfway = 3e-7 + 0.5 * (3e-4 - 3e-7) * (1 + math.cos(math.pi * 5 / 10))
    assert float(logged[5]["lr"]) == pytest.approx(halfway)
    assert float(logged[10]["lr"]) == pytest.approx(3e-7)


def test_a_run_of_given_steps_resumes_to_the_uninterrupted_weights(tmp_path):
    full = _trainer(tmp_path / "full", steps=10)
    full.fit()
    _trainer(tmp_path / "cut", steps=10, max_steps=6, checkpoint_every=3).fit()
    resumed = _trainer(tmp_path / "cut", steps=10, resume=True)
    assert resumed.fit()["steps"] == 10
    for name, tensor in full.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name


def test_steps_must_be_positive():
    with pytest.raises(ValueError, match="steps must be >= 1"):
        _trainer(None, steps=0)


class _Recorder(LearnedTransform):
    """A learned transform that records the calls the trainer makes."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))
        self.opt = torch.optim.SGD(self.parameters(), lr=0.1)
        self.calls = 0

    def variant_names(self):
        return ("scaled",)

    def apply(self, batch, variant, generator=None):
        return batch * self.scale.detach(), {}

    def optimizers(self):
        return {"opt": self.opt}

    def update(self, real_batch, classifier):
        self.calls += 1
        logits = classifier(real_batch * self.scale)
        loss = -torch.nn.functional.cross_entropy(logits["transform"], torch.zeros(len(real_batch), dtype=torch.long))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return {"recorder_loss": float(loss.detach())}


def test_learned_transform_update_is_called_each_step_and_checkpointed(tmp_path):
    recorder = _Recorder()
    trainer = Trainer(
        transforms=TransformSet([Identity(), recorder]),
        backbone=TinyNet(),
        data=TinyImages(),
        epochs=1,
        batch_size=16,
        device="cpu",
        progress=False,
        tensorboard=False,
        output_dir=tmp_path,
    )
    summary = trainer.fit()
    assert recorder.calls == 4
    assert recorder.scale.item() != 1.0  # gradients from the classifier reached the transform
    assert "recorder_loss" in summary["final_metrics"]
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["learned"][0]
    assert saved["module"]["scale"] == recorder.scale.detach()


class _Poison(Identity):
    def apply(self, batch, variant, generator=None):
        return batch * float("nan"), {}


def test_nonfinite_losses_are_skipped_then_reported(tmp_path):
    trainer = Trainer(
        transforms=TransformSet([_Poison(), Rotation()]),
        backbone=TinyNet(),
        data=TinyImages(n=256),
        epochs=1,
        batch_size=16,
        device="cpu",
        progress=False,
    )
    with pytest.raises(NonFiniteLossError, match="10 consecutive"):
        trainer.fit()
    assert trainer.skipped_steps == 10


def test_bilevel_training_learns_rotations_with_k_times_fewer_steps(tmp_path):
    # 64 images, batch 8, k = 2: each step draws 16 images, so an epoch has 4 steps and still
    # visits every image once (sec. 8.2.1). The transformed batch splits into 2 mini-batches
    # with the same rotation-label counts.
    trainer = _trainer(tmp_path, epochs=15, batch_size=8, lr=3e-3, final_lr=1e-4, update=BilevelSteps(k=2))
    summary = trainer.fit()
    assert summary["steps"] == 15 * 4
    assert summary["bilevel"]["k"] == 2 and summary["bilevel"]["balanced"] is True
    assert summary["final_metrics"]["acc/transform"] > 0.9  # chance is 0.25
    assert "bilevel/validation_loss" in summary["final_metrics"]


def test_an_update_strategy_passed_in_sets_the_images_per_step_and_makes_every_update(tmp_path):
    from transformrec.training import GradientSteps

    class DoubleBatches(GradientSteps):
        """Plain gradient steps on twice the batch, counting the batches it is handed."""

        seen: list[int] = []

        def images_per_step(self, batch_size: int) -> int:
            return 2 * batch_size

        def build(self, *args, **kwargs):
            step = super().build(*args, **kwargs)

            def counted(network, inputs, targets):
                self.seen.append(inputs.shape[0])
                return step(network, inputs, targets)

            return counted

    summary = _trainer(tmp_path, epochs=2, batch_size=8, update=DoubleBatches()).fit()
    # 64 images, 16 real images a step: 4 steps an epoch, each of 16 images under 4 rotations
    assert summary["steps"] == 2 * 4 and DoubleBatches.seen == [16 * 4] * 8
    assert summary["bilevel"] is None  # what the default record says of a plain gradient strategy


def test_the_bilevel_strategy_carries_its_own_rules():
    strategy = BilevelSteps(k=3, balanced=False, mu=0.02)
    assert strategy.images_per_step(8) == 24 and not strategy.allows_amp
    assert strategy.record() == {"bilevel": {"k": 3, "mu": 0.02, "balanced": False}}
    strategy.check_world_size(1)
    with pytest.raises(ValueError, match="single process"):
        strategy.check_world_size(2)


def test_bilevel_training_resumes_bit_for_bit(tmp_path):
    options = {"epochs": 2, "batch_size": 8, "update": BilevelSteps(k=4, method="loop")}
    full = _trainer(tmp_path / "full", **options)
    full.fit()
    _trainer(tmp_path / "cut", max_steps=1, **options).fit()
    resumed = _trainer(tmp_path / "cut", resume=True, **options)
    resumed.fit()
    for name, tensor in full.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name


def test_channels_last_trains_the_same_function_in_nhwc_layout(tmp_path):
    plain = _trainer(tmp_path / "plain", epochs=1)
    plain.fit()
    nhwc = _trainer(tmp_path / "nhwc", epochs=1, channels_last=True)
    assert nhwc.channels_last
    conv = nhwc.model.backbone.conv2[0].weight  # 16×8×3×3: the two layouts differ
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    nhwc.fit()
    # Compare functions, not tensors: a conv bias before BatchNorm has a zero gradient up to rounding,
    # which Adam turns into lr-sized steps of either sign, without changing any output.
    images = TinyImages(n=8, seed=3).images
    plain.model.eval(), nhwc.model.eval()
    with torch.no_grad():
        expected, got = plain.model(images), nhwc.model(images.contiguous(memory_format=torch.channels_last))
    for head in expected:
        torch.testing.assert_close(got[head], expected[head], rtol=1e-3, atol=1e-4)


def test_images_with_other_channels_than_the_backbone_takes_are_one_clear_error_before_training(tmp_path):
    class Colour(torch.utils.data.Dataset):  # RGB images, no ``channels`` attribute: the first item is read
        def __len__(self):
            return 8

        def __getitem__(self, index):
            return torch.rand(3, 16, 16), 0

    with pytest.raises(ValueError, match=r"images have 3 channel\(s\) but the backbone's first convolution takes 1"):
        Trainer(["identity", "rotation"], TinyNet(), Colour(), device="cpu", progress=False)


def test_the_online_monitor_logs_its_accuracies_and_resume_stays_exact(tmp_path):
    from transformrec.eval.online_monitor import OnlineMonitor

    def monitored(folder, **kwargs):
        monitor = OnlineMonitor(TinyImages(n=64, seed=3), every=3, taps=["pool"], k=5)
        return _trainer(folder, epochs=2, monitor=monitor, **kwargs)

    plain = _trainer(tmp_path / "plain", epochs=2)
    plain.fit()
    full = monitored(tmp_path / "full")
    summary = full.fit()
    assert [row["step"] for row in summary["monitor"]] == [3, 6, 8]  # every 3 steps and the last (8)
    assert set(summary["monitor"][-1]) == {"step", "monitor/knn/pool", "monitor/linear/pool"}
    with (tmp_path / "full" / "metrics.csv").open() as stream:
        logged = [row for row in csv.DictReader(stream) if row.get("monitor/knn/pool")]
    assert [int(row["step"]) for row in logged] == [3, 6, 8]
    for name, tensor in plain.model.state_dict().items():  # measuring changed nothing in training
        assert torch.equal(tensor, full.model.state_dict()[name]), name
    monitored(tmp_path / "cut", max_steps=4, checkpoint_every=4).fit()
    resumed = monitored(tmp_path / "cut", resume=True)
    assert [row["step"] for row in resumed.fit()["monitor"]] == [3, 6, 8]  # the history travelled too
    for name, tensor in full.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name
