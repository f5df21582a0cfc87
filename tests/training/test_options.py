"""TrainOptions: one source of the Trainer's options and defaults, shared by Python and YAML."""

import math

import pytest
import torch
import yaml
from conftest import TinyImages, TinyNet

from transformrec.config import load_config
from transformrec.config.build import build_trainer
from transformrec.config.schema import TrainConfig
from transformrec.training import Trainer
from transformrec.training.options import TrainOptions, options_from
from transformrec.transforms import Identity, Rotation


def test_defaults_are_the_thesis_optimiser():
    """Sec. 4.4: AdamW, betas (0.5, 0.99), weight decay 1e-4, lr 3e-4 decayed by a cosine to 3e-7."""
    options = TrainOptions()
    assert options.lr == 3e-4 and options.final_lr == 3e-7 and options.weight_decay == 1e-4
    assert options.betas == (0.5, 0.99) and options.schedule == "cosine" and options.mode == "all"


def test_python_and_yaml_runs_get_the_same_options(tmp_path):
    """A YAML config and a Python Trainer that state the same two options agree on every other one."""
    path = tmp_path / "run.yaml"
    config = {
        "data": {"name": "upright_objects", "num_samples": 64, "image_size": 32},
        "backbone": {"name": "alexnet_bn", "width": 0.25},
        "transforms": ["identity", "rotation"],
        "device": "cpu",
        "output_dir": str(tmp_path / "yaml"),
        "train": {"batch_size": 16, "lr": 1e-3},
    }
    path.write_text(yaml.safe_dump(config))
    from_yaml = build_trainer(load_config(path), progress=False)
    from_python = Trainer([Identity(), Rotation()], TinyNet(), TinyImages(), batch_size=16, lr=1e-3, device="cpu")
    assert from_yaml.options == from_python.options
    assert from_python.options.epochs == TrainConfig().epochs


def test_every_option_is_a_yaml_field():
    """Adding a field to TrainOptions is enough for the config to accept it under ``train:``."""
    for name, field in TrainOptions.model_fields.items():
        assert name in TrainConfig.model_fields
        assert TrainConfig.model_fields[name].default == field.default, name


def test_options_object_and_keyword_overrides(tmp_path):
    base = TrainOptions(epochs=3, batch_size=16)
    merged = options_from(base, {"lr": 1e-2})
    assert (merged.epochs, merged.batch_size, merged.lr) == (3, 16, 1e-2)
    assert options_from(base, {}) is base
    trainer = Trainer([Identity(), Rotation()], TinyNet(), TinyImages(), base, steps=5, device="cpu", progress=False)
    assert trainer.total_steps == 5 and trainer.epochs == math.ceil(5 / (64 // 16))


def test_a_config_section_passes_as_options_keeping_only_training_fields():
    section = TrainConfig(epochs=4, bilevel={"k": 2})
    options = options_from(section, {})
    assert type(options) is TrainOptions and options.epochs == 4


def test_unknown_keyword_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="epoch"):
        Trainer([Identity()], TinyNet(), TinyImages(), epoch=3)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"lr": 0.0}, r"^lr must be > 0.0, got 0.0$"),
        ({"betas": (0.5, 1.0)}, r"^betas: .*\[0, 1\)"),
        ({"schedule": "step"}, r"^schedule: "),
        ({"lr": float("nan")}, r"^lr: "),
    ],
)
def test_bad_values_are_one_line_errors_naming_the_option(values, message):
    with pytest.raises(ValueError, match=message) as caught:
        options_from(None, values)
    assert "\n" not in str(caught.value)


def test_options_are_frozen():
    with pytest.raises(Exception, match="frozen"):
        TrainOptions().epochs = 3


def test_python_and_yaml_runs_augment_alike():
    """The Python default was no augmentation while YAML's was crop + flip (sec. 4.4)."""
    from transformrec.config.schema import AugmentConfig
    from transformrec.training.trainer import DEFAULT_AUGMENT

    trainer = Trainer([Identity(), Rotation()], TinyNet(), TinyImages(), device="cpu", progress=False)
    assert trainer.augment is DEFAULT_AUGMENT
    yaml_default = AugmentConfig()
    assert (DEFAULT_AUGMENT.padding, DEFAULT_AUGMENT.hflip) == (yaml_default.padding, yaml_default.hflip) == (4, True)
    assert Trainer([Identity()], TinyNet(), TinyImages(), augment=None, device="cpu", progress=False).augment is None


def test_compile_runs_the_steps_compiled_with_the_eager_runs_numbers_and_plain_checkpoints(tmp_path):
    """``train.compile``, one field of TrainOptions and two lines of the Trainer, is a YAML option too."""
    runs = {}
    for compiled in (False, True):
        torch.manual_seed(0)  # the same initial weights
        trainer = Trainer(
            [Identity(), Rotation()],
            TinyNet(),
            TinyImages(),
            batch_size=16,
            steps=2,
            log_every=1,
            compile=compiled,
            device="cpu",
            seed=0,
            output_dir=tmp_path / str(compiled),
            progress=False,
            tensorboard=False,
        )
        runs[compiled] = trainer.fit()
        assert type(trainer._network).__name__ == ("OptimizedModule" if compiled else type(trainer.model).__name__)
    assert runs[True]["final_metrics"]["loss"] == pytest.approx(runs[False]["final_metrics"]["loss"], rel=1e-4)
    saved = torch.load(tmp_path / "True" / "checkpoint.pt", weights_only=True)
    assert not any(key.startswith("_orig_mod") for key in saved["model"])  # the plain model's weights
    assert TrainConfig(compile=True).compile
