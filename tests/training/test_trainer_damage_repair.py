"""The Trainer with damage & repair (ch. 3): the dense mask head, L_auto pre-training once, exact resume."""

import csv
import signal

import pytest
import torch
from conftest import TinyImages, TinyNet, interrupted_and_resumed

from transformrec.errors import TrainingInterruptedError
from transformrec.training import Trainer
from transformrec.transforms import DamageRepair


def _trainer(tmp_path, dr_options=None, **kwargs):
    options = dict(epochs=2, batch_size=16, device="cpu", progress=False, tensorboard=False, output_dir=tmp_path)
    options.update(kwargs)
    torch.manual_seed(0)
    dr_options = {"pretrain_steps": 3, **(dr_options or {})}
    dr = DamageRepair(channels=1, width=4, drop_rate=0.5, history_size=24, mask_tap="conv2", **dr_options)
    return Trainer(transforms=[dr], backbone=TinyNet(), data=TinyImages(), **options)


def test_trainer_builds_the_mask_head_and_trains_both_heads_and_r(tmp_path):
    trainer = _trainer(tmp_path, epochs=1)
    dr = trainer.transform_set.transforms[0]
    assert trainer.model.dense_heads["mask"].in_channels == 16  # TinyNet's conv2
    summary = trainer.fit()
    assert len(dr.pretrain_losses) == 3 and dr.repair_steps == summary["steps"] == 4
    metrics = summary["final_metrics"]
    for key in ("loss/transform", "acc/transform", "loss/mask", "acc/mask", "damage_repair/fool", "damage_repair/kept"):
        assert key in metrics, key
    assert len(dr.history) == 24


def test_without_the_mask_head_the_model_has_no_dense_head(tmp_path):
    trainer = _trainer(tmp_path, dr_options=dict(mask_head=False), epochs=1)
    assert len(trainer.model.dense_heads) == 0
    assert "loss/mask" not in trainer.fit()["final_metrics"]


def test_resume_restores_classifier_repair_network_history_and_optimisers_exactly(tmp_path):
    full, resumed = interrupted_and_resumed(_trainer, tmp_path, cut_at=3)
    resumed_dr, full_dr = resumed.transform_set.transforms[0], full.transform_set.transforms[0]
    assert resumed_dr.pretrain_losses == []  # L_auto pre-training ran once, in the first run
    for name, tensor in full_dr.state_dict().items():
        assert torch.equal(tensor, resumed_dr.state_dict()[name]), name
    assert torch.equal(full_dr.history.images, resumed_dr.history.images)
    assert torch.equal(full_dr.history.masks, resumed_dr.history.masks)
    assert full_dr.repair_steps == resumed_dr.repair_steps == 8


def _assert_same_training(full, resumed):
    for name, tensor in full.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name
    full_dr, resumed_dr = full.transform_set.transforms[0], resumed.transform_set.transforms[0]
    for name, tensor in full_dr.state_dict().items():
        assert torch.equal(tensor, resumed_dr.state_dict()[name]), name


def _phase_log(folder):
    with (folder / "pretraining_damage_repair.csv").open() as stream:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(stream)]


def test_the_autoencoder_phase_logs_l_auto_and_its_linearly_decaying_lr(tmp_path):
    """Sec. 3.3.2: lr 3e-4 decayed linearly to 3e-6 over the phase; logged as used by each step."""
    trainer = _trainer(tmp_path, dr_options=dict(pretrain_steps=4), epochs=1, log_every=1)
    trainer.fit()
    logged = _phase_log(tmp_path)
    assert [row["step"] for row in logged] == [1.0, 2.0, 3.0, 4.0]
    expected = [3e-4 + (3e-6 - 3e-4) * k / 4 for k in range(4)]  # step k+1 uses the lr of k of 4 steps done
    assert [row["lr"] for row in logged] == pytest.approx(expected)
    assert all(row["loss/autoencoder"] > 0 for row in logged)
    assert "loss/autoencoder" not in (tmp_path / "metrics.csv").read_text()  # the main loop's log stays its own


def _fail_after_pretrain_step(trainer, index, failure):
    """Make ``failure()`` happen right after pre-training step ``index`` (0-based) of ``trainer``'s transform."""
    dr = trainer.transform_set.transforms[0]
    step = dr.pretrain_step

    def step_then_fail(batch, at):
        metrics = step(batch, at)
        if at == index:
            failure()
        return metrics

    dr.pretrain_step = step_then_fail


def test_a_signal_mid_pretraining_saves_a_checkpoint_and_resume_finishes_the_phase_exactly(tmp_path):
    # 6 L_auto steps over 4 batches per epoch: the resumed phase starts mid-epoch and crosses an epoch.
    options = dict(dr_options=dict(pretrain_steps=6), epochs=1, log_every=1)
    full = _trainer(tmp_path / "full", **options)
    full.fit()
    cut = _trainer(tmp_path / "cut", **options, checkpoint_every=None)
    _fail_after_pretrain_step(cut, 2, lambda: signal.raise_signal(signal.SIGINT))
    with pytest.raises(TrainingInterruptedError, match="after step 3 of damage_repair pre-training"):
        cut.fit()
    saved = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)
    assert saved["step"] == 0 and saved["learned"][0]["pretrained_steps"] == 3
    resumed = _trainer(tmp_path / "cut", **options, resume=True)
    resumed.fit()
    full_losses = full.transform_set.transforms[0].pretrain_losses
    assert len(full_losses) == 6
    assert resumed.transform_set.transforms[0].pretrain_losses == full_losses[3:]  # steps 4–6, same batches
    _assert_same_training(full, resumed)
    # The phase's log reads as the uninterrupted run's: steps 1-6 once each, L_auto as measured.
    logged = _phase_log(tmp_path / "cut")
    assert [row["step"] for row in logged] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert [row["loss/autoencoder"] for row in logged] == pytest.approx(full_losses)


def test_pretraining_checkpoints_every_checkpoint_every_steps_so_a_crash_loses_at_most_those(tmp_path):
    options = dict(dr_options=dict(pretrain_steps=6), epochs=1)
    full = _trainer(tmp_path / "full", **options)
    full.fit()
    crashed = _trainer(tmp_path / "crashed", **options, checkpoint_every=2)

    def crash():
        raise RuntimeError("power cut")

    _fail_after_pretrain_step(crashed, 4, crash)  # after step 5; the last checkpoint holds step 4
    with pytest.raises(RuntimeError, match="power cut"):
        crashed.fit()
    saved = torch.load(tmp_path / "crashed" / "checkpoint.pt", weights_only=True)
    assert saved["learned"][0]["pretrained_steps"] == 4
    resumed = _trainer(tmp_path / "crashed", **options, resume=True)
    resumed.fit()
    assert resumed.transform_set.transforms[0].pretrain_losses == full.transform_set.transforms[0].pretrain_losses[4:]
    _assert_same_training(full, resumed)
