"""Config validation: thesis defaults, overrides, and errors that name the file and the field."""

import pytest
import torch

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


def test_unknown_component_parameters_are_rejected_with_the_accepted_ones(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("transforms: [identity, {name: lci, patchsize: 0.5}]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "transform 'lci' has no parameter patchsize" in str(info.value) and "patch_size" in str(info.value)


def test_chapter_4_lci_config_declares_the_six_way_task_of_eq_4_1():
    from pathlib import Path

    from transformrec.config.build import build_transform_set

    config = load_config(Path(__file__).resolve().parents[2] / "configs" / "ch4_rot_warp_lci.yaml")
    transform_set = build_transform_set(config)
    assert transform_set.heads == {"transform": ["identity", "rot90", "rot180", "rot270", "warp", "lci"]}
    lci = transform_set.learned_transforms[0]
    assert (lci.patch_size, lci.border, lci.lambda_border, lci.lambda_ae) == (0.75, 2, 50, 50)
    assert lci.inpainter_optimizer.defaults["lr"] == 2e-4 and lci.inpainter_optimizer.defaults["betas"][0] == 0.5


@pytest.mark.parametrize(
    "name",
    [
        "quickstart.yaml",
        "ch4_rot_warp.yaml",
        "ch4_rot_warp_lci.yaml",
        "fashion_mnist_rot_warp.yaml",
        "ch5_temporal.yaml",
        "procedural_video_temporal.yaml",
        "ch3_damage_repair.yaml",
        "ch3_damage_repair_fashion_mnist.yaml",
        "ch6_multiview.yaml",
        "procedural_multiview.yaml",
        "templates/own_images.yaml",
    ],
)
def test_shipped_configs_validate(name):
    from pathlib import Path

    load_config(Path(__file__).resolve().parents[2] / "configs" / name)


def test_learned_transforms_take_channels_from_the_dataset_and_the_seed_from_the_experiment():
    from transformrec.config.build import build_data, build_transform_set

    config = load_config(
        None,
        ["seed=7", "data={name: upright_objects, num_samples: 4, image_size: 16, channels: 1}", "transforms=[lci]"],
    )
    lci = build_transform_set(config, build_data(config.data)).learned_transforms[0]
    assert lci.channels == 1 and lci.inpainter.stem[0].in_channels == 1
    assert torch.equal(lci.generator.get_state(), torch.Generator().manual_seed(7).get_state())


def test_bilevel_blocks_default_to_the_ablation_baseline_and_need_a_training_protocol(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train: {bilevel: {k: 4}}\nevaluation: {protocol: finetune, bilevel: {same_dropout: false}}\n")
    config = load_config(path)
    assert config.train.bilevel.k == 4 and config.train.bilevel.mu == 0.01 and config.train.bilevel.lambda_ == 1.0
    assert config.evaluation.bilevel.k == 8 and not config.evaluation.bilevel.same_dropout
    assert ExperimentConfig().train.bilevel is None  # off unless asked for
    path.write_text("evaluation: {protocol: knn, bilevel: {}}\n")
    with pytest.raises(ConfigError, match="cannot use bilevel"):
        load_config(path)
    path.write_text("train: {bilevel: {k: 1}}\n")
    with pytest.raises(ConfigError, match="train.bilevel.k"):
        load_config(path)


def test_learned_transform_parameter_errors_name_the_transform_entry_and_the_field():
    from transformrec.config.build import build_transform_set

    config = load_config(
        None,
        ["transforms=[identity, {name: lci, distribution_filter: {kind: gaussain}}]"],
    )
    with pytest.raises(ConfigError, match=r"transforms\[1\] \(lci\): lci.distribution_filter: kind"):
        build_transform_set(config)
    config = load_config(None, ["transforms=[identity, {name: lci, objective: hinge, distribution_filter: {}}]"])
    lci = build_transform_set(config).learned_transforms[0]
    assert lci.filter.mode == "clean_and_noisy" and lci.filter.separate_normalization  # D has no BN


def test_damage_repair_config_builds_the_table_3_1_ablations():
    from pathlib import Path

    from transformrec.config.build import build_transform_set

    path = Path(__file__).resolve().parents[2] / "configs" / "ch3_damage_repair_fashion_mnist.yaml"
    config = load_config(path, ["transforms.0.repair=local", "transforms.0.gating=false", "transforms.0.history=false"])
    (transform,) = build_transform_set(config).transforms
    assert transform.repair.layout == "local" and transform.history is None
    assert not any(block.gating for block in transform.repair.blocks)
    with pytest.raises(ConfigError, match="drop_ratio"):
        load_config(path, ["transforms.0.drop_ratio=0.5"])


def test_a_length_in_steps_reaches_the_trainer_and_must_be_positive(tmp_path):
    from transformrec.config.build import build_trainer

    data = "data={name: upright_objects, num_samples: 8, image_size: 16, channels: 1}"
    overrides = [data, "train.batch_size=4", "train.steps=5", f"output_dir={tmp_path}", "device=cpu"]
    trainer = build_trainer(load_config(None, overrides), progress=False)
    assert trainer.total_steps == 5 and trainer.epochs == 3  # 2 batches per epoch
    with pytest.raises(ConfigError, match="train.steps"):
        load_config(None, [data, "train.steps=0"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.lr=.inf", "train.lr: Input should be a finite number"),  # steps were skipped, exit 0
        ("train.weight_decay=.nan", "train.weight_decay: Input should be a finite number"),
        ("threads=100000", "threads: Input should be less than or equal to 1024"),  # torch segfaulted
    ],
)
def test_values_that_failed_only_during_training_are_refused_at_load(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_a_key_set_inside_a_component_given_by_name_turns_the_name_into_a_mapping():
    tree = {"transforms": ["identity", "rotation", "warp"]}
    apply_override(tree, "transforms.2.order=3")
    assert tree["transforms"] == ["identity", "rotation", {"name": "warp", "order": 3}]


def test_a_key_set_inside_a_list_item_that_is_a_number_is_one_line_naming_the_item():
    tree = {"transforms": [1, 2]}
    with pytest.raises(ConfigError, match=r"transforms\.0 is 1, not a mapping or a list to set a key in"):
        apply_override(tree, "transforms.0.autoencoded_real=0")
