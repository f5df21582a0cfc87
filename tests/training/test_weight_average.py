"""The generator's weight average (EMA) against its closed form, and the GAN trainer sampling from it."""

import math

import pytest
import torch
from test_gan_trainer import _config as gan_run_config
from torch import nn

from transformrec.adversarial.weight_average import WeightAverage
from transformrec.config.gan_build import build_gan_trainer


def test_average_of_a_network_held_at_new_weights_decays_geometrically_towards_them():
    """Closed form: with θ fixed at θ₁ after starting at θ₀, θ̄_t = θ₁ + (θ₀ − θ₁)·∏_k d_k,
    d_k = min(decay, (1 + k) / (10 + k)); the product telescopes to 1/10 · 2/11 · … while k is small."""
    network = nn.Linear(3, 1, bias=False)
    nn.init.constant_(network.weight, 1.0)
    average = WeightAverage(network, decay=0.9)
    nn.init.constant_(network.weight, 3.0)
    for _ in range(50):
        average.update(network)
    product = math.prod(min(0.9, (1 + k) / (10 + k)) for k in range(50))
    expected = 3.0 + (1.0 - 3.0) * product
    assert average.averaged.weight.detach() == pytest.approx(torch.full((1, 3), expected), abs=1e-6)


def test_decay_zero_follows_the_network_and_buffers_are_copied():
    network = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    average = WeightAverage(network, decay=0.0)
    network.train()
    network(torch.randn(16, 2) * 5 + 3)  # moves BN's running statistics
    with torch.no_grad():
        network[0].weight.add_(1.0)
    average.update(network)
    for mine, theirs in zip(average.averaged.state_dict().values(), network.state_dict().values(), strict=True):
        assert torch.equal(mine, theirs)
    assert not any(p.requires_grad for p in average.averaged.parameters())


def test_decay_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="ema decay"):
        WeightAverage(nn.Linear(1, 1), decay=1.0)


def _config(tmp_path, **changes):
    """test_gan_trainer's toy GAN run, standard GAN, scored by nothing: only the weight average matters here."""
    options = {"noise": {"kind": "none"}, "eval": {"every": 3, "samples": 16, "extractor": "none"}}
    options.update(steps=3, checkpoint_every=3, sample_every=3)
    options.update(changes)
    return gan_run_config(tmp_path, **options)


def test_the_trainer_samples_from_the_average_with_batch_statistics(tmp_path):
    trainer = build_gan_trainer(_config(tmp_path, ema_decay=0.5), progress=False)
    trainer.fit()
    assert int(trainer.ema.updates) == 3
    assert any(
        not torch.equal(a, b)
        for a, b in zip(trainer.ema.averaged.parameters(), trainer.generator.parameters(), strict=True)
    )
    z = torch.randn(8, 128)
    torch.manual_seed(0)
    drawn = trainer._generate(z)
    reference = trainer.ema.averaged.train()(z)  # BN in training mode: the batch's own statistics
    assert torch.allclose(drawn, reference)


def test_without_an_average_the_trainer_samples_g_in_eval_mode(tmp_path):
    trainer = build_gan_trainer(_config(tmp_path, ema_decay=None), progress=False)
    trainer.fit()
    z = torch.randn(8, 128)
    assert trainer.ema is None
    assert torch.allclose(trainer._generate(z), trainer.generator.eval()(z))


def test_resume_restores_the_average_bit_for_bit(tmp_path):
    straight = build_gan_trainer(_config(tmp_path / "a", steps=4, checkpoint_every=2), progress=False)
    straight.fit()
    build_gan_trainer(_config(tmp_path / "b", steps=2, checkpoint_every=2), progress=False).fit()
    resumed = build_gan_trainer(_config(tmp_path / "b", steps=4, checkpoint_every=2), progress=False)
    resumed.fit(resume=True)
    for a, b in zip(straight.ema.state_dict().values(), resumed.ema.state_dict().values(), strict=True):
        assert torch.equal(a, b)
