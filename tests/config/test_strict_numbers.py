"""Numbers and switches mean what they say: no 'yes' -> True, no '3' or 2.0 -> 3, no true -> 1."""

import pytest

from transformrec.config import ConfigError, load_config
from transformrec.strict_numbers import number_problem
from transformrec.training.options import TrainOptions


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("train: {amp: yes}", "amp: must be true or false, got 'yes'"),
        ("train: {amp: on}", "amp: must be true or false, got 'on'"),
        ("train: {amp: 1}", "amp: must be true or false, got 1"),
        ("train: {epochs: '3'}", "epochs: must be an integer, got '3'"),
        ("train: {epochs: 2.0}", "epochs: must be an integer, got 2.0"),
        ("train: {epochs: true}", "epochs: must be a number, got True"),
        ("seed: true", "seed: must be a number, got True"),
        ("train: {lr: true}", "lr: must be a number, got True"),
        ("train: {augment: {hflip: no}}", "hflip: must be true or false, got 'no'"),
        ("monitor: {data: upright_objects, every: 1.5}", "every: must be an integer, got 1.5"),
    ],
)
def test_coercions_pydantic_would_make_are_refused_naming_the_field(tmp_path, yaml_text, message):
    path = tmp_path / "config.yaml"
    path.write_text(yaml_text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in str(caught.value)


def test_what_yaml_legitimately_writes_is_still_accepted(tmp_path):
    """PyYAML reads 3e-4 as a string and a tuple is written as a list: both stay valid."""
    path = tmp_path / "config.yaml"
    path.write_text("seed: 3\ntrain: {lr: 3e-4, betas: [0.5, 0.9], epochs: 4, amp: false, final_lr: 0}\n")
    config = load_config(path)
    assert config.train.lr == 3e-4 and config.train.betas == (0.5, 0.9) and config.train.final_lr == 0.0
    assert config.seed == 3 and config.train.amp is False


def test_python_options_are_checked_the_same_way():
    with pytest.raises(ValueError, match="epochs: must be an integer, got '3'"):
        TrainOptions(epochs="3")
    assert TrainOptions(lr=1).lr == 1.0  # an integer is a fine float


@pytest.mark.parametrize(
    ("annotation", "value", "refused"),
    [
        (bool, True, False),
        (bool, "true", True),
        (bool, 0, True),
        (int, 3, False),
        (int, 3.0, True),
        (int, False, True),
        (int | None, None, False),
        (int | None, "4", True),
        (float, 2, False),
        (float, "2e-3", False),
        (float, True, True),
        (str, "yes", False),
        (int | str, "x", False),
    ],
)
def test_number_problem(annotation, value, refused):
    assert (number_problem(annotation, value) is not None) is refused
