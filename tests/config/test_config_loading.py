"""Config validation: thesis defaults, overrides, and errors that name the file and the field."""

import pytest

from transformrec.config import ConfigError, ExperimentConfig, apply_override, load_config


def test_defaults_follow_the_thesis():
    config = ExperimentConfig()
    assert (config.train.lr, config.train.final_lr) == (3e-4, 3e-7)
    assert config.train.betas == (0.5, 0.99) and config.train.weight_decay == 1e-4
    assert config.train.batch_size == 64 and config.train.mode == "all"
    assert [t.name for t in config.transforms] == ["identity", "rotation", "warp"]


def test_components_accept_bare_names_and_flat_parameters(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("transforms: [identity, {name: warp, order: 3, grid_size: 5}]\n")
    config = load_config(path)
    assert config.transforms[1].name == "warp" and config.transforms[1].params == {"order": 3, "grid_size": 5}


def test_overrides_parse_yaml_values_and_nested_keys():
    tree = {"train": {"epochs": 3}, "transforms": [{"name": "identity"}]}
    apply_override(tree, "train.epochs=7")
    apply_override(tree, "train.augment.hflip=false")
    apply_override(tree, "transforms.0.name=rotation")
    assert tree == {"train": {"epochs": 7, "augment": {"hflip": False}}, "transforms": [{"name": "rotation"}]}
    with pytest.raises(ConfigError, match="key.path=value"):
        apply_override(tree, "train.epochs")


def test_invalid_values_name_the_file_and_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  lr: -1\n  epochz: 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "bad.yaml: train.lr" in message and "greater than 0" in message
    assert "train.epochz" in message  # unknown keys are rejected, not ignored


def test_unknown_component_names_list_the_known_ones(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("transforms: [identity, rotashun]\nbackbone: alexnet\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "unknown transform 'rotashun'; known:" in str(info.value) and "rotation" in str(info.value)
    assert "unknown backbone 'alexnet'" in str(info.value) and "alexnet_bn" in str(info.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "broken.yaml")


@pytest.mark.parametrize("name", ["quickstart.yaml", "ch4_rot_warp.yaml", "fashion_mnist_rot_warp.yaml"])
def test_shipped_configs_validate(name):
    from pathlib import Path

    load_config(Path(__file__).resolve().parents[2] / "configs" / name)
