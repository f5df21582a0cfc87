"""GAN trainer: Algorithm 1 end to end at toy scale, grids, FID/IS history, exact resume, config errors."""

import csv
import json

import pytest
import torch

from transformrec.config.gan_build import GANConfig, build_gan_trainer, load_gan_config
from transformrec.config.loading import ConfigError


def _config(tmp_path, **changes) -> GANConfig:
    tree = {
        "output_dir": str(tmp_path / "run"),
        "width": 0.125,
        "batch_size": 8,
        "train_images": 256,
        "steps": 4,
        "checkpoint_every": 2,
        "sample_every": 2,
        "eval": {"every": 2, "samples": 64, "extractor": "none"},
        "noise": {"kind": "network", "penalty": 1.0},
    }
    tree.update(changes)
    return GANConfig.model_validate(tree)


def _mean_pool_extractor(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pooled = torch.nn.functional.avg_pool2d(images, 8).flatten(1)  # 16 features at 32 px
    return pooled, pooled[:, :10] * 5


def test_training_updates_generator_discriminator_and_noise_network_and_writes_grids(tmp_path):
    trainer = build_gan_trainer(_config(tmp_path), extractor=_mean_pool_extractor)
    before = [
        [p.detach().clone() for p in m.parameters()] for m in (trainer.generator, trainer.discriminator, trainer.filter)
    ]
    summary = trainer.fit()
    after = [list(m.parameters()) for m in (trainer.generator, trainer.discriminator, trainer.filter)]
    for old, new in zip(before, after, strict=True):
        assert any(not torch.equal(a, b) for a, b in zip(old, new, strict=True))
    assert sorted(p.name for p in (tmp_path / "run").glob("samples_*.png")) == [
        "samples_0000002.png",
        "samples_0000004.png",
    ]
    assert [row["step"] for row in summary["history"]] == [2, 4]
    assert len(summary["fid_last5"]) == 2 and summary["fid_last5"][0] > 0
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["steps"] == 4


def test_resume_continues_bit_for_bit(tmp_path):
    straight = build_gan_trainer(_config(tmp_path / "a"))
    straight.fit()
    first = build_gan_trainer(_config(tmp_path / "b", steps=2))
    first.fit()
    resumed = build_gan_trainer(_config(tmp_path / "b"))
    resumed.fit(resume=True)
    assert resumed.step == 4
    for a, b in zip(straight.generator.state_dict().values(), resumed.generator.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(straight.filter.state_dict().values(), resumed.filter.state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    "noise",
    [{"kind": "none"}, {"kind": "learned_sigma", "mode": "half_noisy"}, {"kind": "annealed", "mode": "noisy_only"}],
)
def test_table_7_1_variants_and_wgan_gp_run(tmp_path, noise):
    config = _config(tmp_path, steps=2, noise=noise, objective="wgan_gp", n_disc=2, optimizer="sgd", lr=0.01)
    assert build_gan_trainer(config).fit()["steps"] == 2


def test_learned_sigma_moves_and_annealed_sigma_reaches_zero(tmp_path):
    learned = build_gan_trainer(_config(tmp_path / "l", steps=3, noise={"kind": "learned_sigma", "sigma": 0.5}))
    assert learned.fit()["final_sigma"] != 0.5
    annealed = build_gan_trainer(_config(tmp_path / "a", steps=3, noise={"kind": "annealed", "sigma": 0.5}))
    assert annealed.fit()["final_sigma"] == 0.0


def test_config_errors_name_the_file_and_the_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("lr: -1\nnoise: {kind: pink}\n")
    with pytest.raises(ConfigError) as error:
        load_gan_config(path)
    assert f"{path}: lr:" in str(error.value) and f"{path}: noise.kind:" in str(error.value)
    with pytest.raises(ConfigError, match="objective 'lsgan'"):
        load_gan_config(None, ["objective=lsgan"])


def test_shipped_config_validates_with_overrides():
    config = load_gan_config("configs/ch7_dfgan_fashion_mnist.yaml", ["noise.penalty=10"])
    assert config.noise.penalty == 10 and config.noise.kind == "network"


def test_evaluations_start_at_eval_start(tmp_path):
    config = _config(tmp_path, noise={"kind": "none"}, eval={"every": 1, "start": 3, "samples": 32})
    summary = build_gan_trainer(config, extractor=_mean_pool_extractor).fit()
    assert [row["step"] for row in summary["history"]] == [3, 4]


@pytest.mark.parametrize(
    ("spectral_norm", "noise", "expected"),
    [
        (True, {"kind": "network"}, True),  # SNGAN + DF: no BN in D, so separate input normalisation (sec. 7.2.3)
        (False, {"kind": "network"}, False),  # DCGAN's BN already normalises real and fake batches separately
        (True, {"kind": "none"}, False),  # the standard SNGAN is left as published
        (False, {"kind": "gaussian", "separate_normalization": True}, True),
    ],
)
def test_separate_normalization_defaults_to_discriminators_without_batch_norm(tmp_path, spectral_norm, noise, expected):
    trainer = build_gan_trainer(_config(tmp_path, spectral_norm=spectral_norm, noise=noise))
    assert trainer.filter.separate_normalization is expected
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in trainer.discriminator.modules()) or not spectral_norm


def test_annealed_noise_without_a_horizon_is_refused_by_name():
    from transformrec.adversarial.filter_config import build_distribution_filter, parse_noise_config

    with pytest.raises(ValueError, match="anneal_steps"):
        build_distribution_filter(parse_noise_config({"kind": "annealed"}, "x"), lambda: None, True)
    with pytest.raises(ValueError, match=r"lci.distribution_filter: kind"):
        parse_noise_config({"kind": "gaussain"}, "lci.distribution_filter")


def test_trains_on_any_registered_image_set_with_its_channels_and_logs_like_pretrain(tmp_path):
    # upright_objects: 3-channel rendered scenes, so G and D are built for 3 channels; the offline
    # FID classifier is trained on the set's own labels and scored against its test split.
    config = _config(
        tmp_path,
        data={"name": "upright_objects", "split": "train", "num_samples": 128},
        train_images=None,
        log_every=1,
        eval={"every": 2, "samples": 32, "extractor": "classifier", "extractor_steps": 5},
    )
    trainer = build_gan_trainer(config, progress=False)
    assert trainer.real.shape == (128, 3, 32, 32) and trainer.real.min() >= -1 and trainer.real.max() <= 1
    summary = trainer.fit()
    assert trainer.sample(2).shape == (2, 3, 32, 32)
    assert summary["data"] == "upright_objects" and [row["step"] for row in summary["history"]] == [2, 4]
    with (tmp_path / "run" / "metrics.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert [int(float(r["step"])) for r in rows if r.get("g_loss")] == [1, 2, 3, 4]
    assert [int(float(r["step"])) for r in rows if r.get("fid")] == [2, 4]
    assert all(float(r["noise_rms"]) > 0 for r in rows if r.get("g_loss"))  # ‖ε‖ of the noise network, per step
    assert (tmp_path / "run" / "tensorboard").is_dir()


def test_gan_and_pretext_configs_share_one_loader_and_refuse_each_other(tmp_path):
    from transformrec.config import load_config

    gan = load_config("configs/ch7_dfgan_fashion_mnist.yaml", ["data.name=upright_objects"], kind="gan")
    assert gan.kind == "gan" and gan.data.name == "upright_objects" and gan.eval.extractor == "classifier"
    with pytest.raises(ConfigError, match="this is a gan config; run it with `transformrec gan`"):
        load_config("configs/ch7_dfgan_fashion_mnist.yaml")
    pretext = tmp_path / "pretext.yaml"
    pretext.write_text("kind: pretext\n")
    with pytest.raises(ConfigError, match="this is a pretext config"):
        load_gan_config(pretext)
    with pytest.raises(ConfigError, match="data: Value error, unknown dataset 'mnist'"):
        load_gan_config(None, ["data.name=mnist"])


def test_images_of_another_size_than_image_size_are_refused_by_field(tmp_path):
    config = _config(tmp_path, data={"name": "upright_objects", "split": "train", "num_samples": 8, "image_size": 64})
    with pytest.raises(ConfigError, match=r"data \(upright_objects\): images are 64×64 px, but image_size is 32"):
        build_gan_trainer(config)


def test_the_trainer_takes_images_built_by_its_caller_and_checks_their_size(tmp_path):
    from transformrec.training.gan_trainer import GANImages, GANTrainer

    config = _config(tmp_path, eval={"every": 2, "samples": 16, "extractor": "none"})
    own = torch.rand(32, 1, 32, 32) * 2 - 1  # a researcher's own tensor, no registered data set
    trainer = GANTrainer(config, GANImages(own, torch.full((32,), -1)), progress=False)
    assert trainer.real is own and trainer.fit()["steps"] == 4
    with pytest.raises(ConfigError, match=r"images are 16×16 px, but image_size is 32"):
        GANTrainer(config, GANImages(own[..., :16, :16], torch.full((32,), -1)))


def test_a_player_with_a_nonfinite_loss_is_not_updated_and_the_run_stops_when_it_persists(tmp_path):
    from transformrec.training.engine import NonFiniteLossError

    trainer = build_gan_trainer(_config(tmp_path, noise={"kind": "none"}, steps=20), progress=False)
    trainer.real[:] = float("nan")  # every real batch poisons D's loss
    before = [p.detach().clone() for p in trainer.discriminator.parameters()]
    with pytest.raises(NonFiniteLossError, match="10 consecutive"):
        trainer.fit()
    assert trainer.engine.skipped_steps == 10
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.discriminator.parameters(), strict=True))


@pytest.mark.parametrize("latent", ["generator", "own"])
def test_the_noise_network_is_fed_the_fakes_z_or_its_own_draw(tmp_path, latent):
    trainer = build_gan_trainer(_config(tmp_path, noise={"kind": "network", "latent": latent}), progress=False)
    g_inputs, noise_inputs = [], []
    trainer.generator.register_forward_hook(lambda m, inputs, out: g_inputs.append(inputs[0].clone()))
    trainer.filter.noise.network.register_forward_hook(lambda m, inputs, out: noise_inputs.append(inputs[0].clone()))
    trainer.train_step()
    assert len(g_inputs) == len(noise_inputs) == 2  # the D step's fakes and the G step's
    same = all(torch.equal(g, n) for g, n in zip(g_inputs, noise_inputs, strict=True))
    assert same == (latent == "generator")
