"""The Trainer with the learned LCI transform: exact resume, and the frozen-F pre-training phase."""

import torch
from conftest import TinyImages, TinyNet, interrupted_and_resumed

from transformrec.training import Trainer
from transformrec.transforms import Identity, LimitedContextInpainting, Rotation


def _trainer(tmp_path, lci_options=None, **kwargs):
    options = dict(epochs=2, batch_size=16, device="cpu", progress=False, tensorboard=False, output_dir=tmp_path)
    options.update(kwargs)
    torch.manual_seed(0)
    lci = LimitedContextInpainting(channels=1, width=4, patch_size=0.5, **(lci_options or {}))
    return Trainer(transforms=[Identity(), Rotation(), lci], backbone=TinyNet(), data=TinyImages(), **options)


def test_resume_restores_inpainter_discriminator_and_their_optimisers_exactly(tmp_path):
    full, resumed = interrupted_and_resumed(_trainer, tmp_path, cut_at=3)
    full_lci, resumed_lci = full.transform_set.transforms[2], resumed.transform_set.transforms[2]
    for name, tensor in full_lci.state_dict().items():
        assert torch.equal(tensor, resumed_lci.state_dict()[name]), name


def test_trainer_runs_the_frozen_inpainter_pretraining_once_before_training(tmp_path):
    trainer = _trainer(tmp_path, lci_options=dict(frozen=True, pretrain_steps=2), epochs=1)
    lci = trainer.transform_set.transforms[2]
    before = {k: v.clone() for k, v in lci.inpainter.state_dict().items()}
    summary = trainer.fit()
    assert summary["steps"] == 4
    assert not any(key.startswith("lci/") for key in summary["final_metrics"])  # F no longer trains
    assert any(not torch.equal(before[k], v) for k, v in lci.inpainter.state_dict().items())
    assert all(not p.requires_grad for p in lci.inpainter.parameters())


def test_a_warm_up_trains_f_and_d_alone_first_and_f_keeps_training_with_c(tmp_path):
    trainer = _trainer(tmp_path, lci_options=dict(warmup_steps=2), epochs=1)
    lci = trainer.transform_set.transforms[2]
    after_warm_up = {}
    original = lci.leave_pretraining

    def remember(finished):
        original(finished)
        after_warm_up.update({k: v.clone() for k, v in lci.inpainter.state_dict().items()})

    lci.leave_pretraining = remember
    summary = trainer.fit()
    assert lci.pretrained_steps == 2 and summary["steps"] == 4
    assert "lci/ssl" in summary["final_metrics"]  # F trains on against C after the warm-up
    assert all(p.requires_grad for p in lci.inpainter.parameters())
    assert any(not torch.equal(after_warm_up[k], v) for k, v in lci.inpainter.state_dict().items())


def test_a_frozen_inpainter_has_no_warm_up():
    import pytest

    with pytest.raises(ValueError, match="warmup_steps"):
        LimitedContextInpainting(channels=1, frozen=True, pretrain_steps=2, warmup_steps=3)


def test_resume_is_exact_with_a_distribution_filtered_discriminator(tmp_path):
    """The noise network, its optimiser and the ε draws travel in the checkpoint too (ch. 7 option)."""
    options = {"distribution_filter": {"kind": "network", "penalty": 0.1}}
    full = _trainer(tmp_path / "full", lci_options=options)
    full.fit()
    _trainer(tmp_path / "cut", lci_options=options, max_steps=3, checkpoint_every=1).fit()
    resumed = _trainer(tmp_path / "cut", lci_options=options, resume=True)
    resumed.fit()
    full_lci, resumed_lci = full.transform_set.transforms[2], resumed.transform_set.transforms[2]
    for name, tensor in full_lci.state_dict().items():
        assert torch.equal(tensor, resumed_lci.state_dict()[name]), name
    assert any(name.startswith("filter.noise.network") for name in full_lci.state_dict())
