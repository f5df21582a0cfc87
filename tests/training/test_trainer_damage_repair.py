"""The Trainer with damage & repair (ch. 3): the dense mask head, L_auto pre-training once, exact resume."""

import torch
from conftest import TinyImages, TinyNet, interrupted_and_resumed

from transformrec.training import Trainer
from transformrec.transforms import DamageRepair


def _trainer(tmp_path, dr_options=None, **kwargs):
    options = dict(epochs=2, batch_size=16, device="cpu", progress=False, tensorboard=False, output_dir=tmp_path)
    options.update(kwargs)
    torch.manual_seed(0)
    dr = DamageRepair(
        channels=1, width=4, drop_rate=0.5, pretrain_steps=3, history_size=24, mask_tap="conv2", **(dr_options or {})
    )
    return Trainer(transforms=[dr], backbone=TinyNet(), data=TinyImages(), **options)


def test_trainer_builds_the_mask_head_and_trains_both_heads_and_r(tmp_path):
    trainer = _trainer(tmp_path, epochs=1)
    dr = trainer.transform_set.transforms[0]
    assert trainer.model.dense_heads["mask"].in_channels == 16  # TinyNet's conv2
    summary = trainer.fit()
    assert len(dr.pretrain_losses) == 3 and dr.repair_steps == summary["steps"] == 4
    metrics = summary["final_metrics"]
    for key in ("loss/transform", "acc/transform", "loss/mask", "acc/mask", "damage_repair/class"):
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
