"""Component parameters are typed by their factories' annotations and checked strictly at load time."""

from pathlib import Path

import pytest

from transformrec.config.loading import ConfigError, load_config
from transformrec.registry import Registry, refuse_wrong_types, scalar_types

QUICKSTART = Path(__file__).resolve().parents[1] / "configs" / "quickstart.yaml"


def _factory(width: int, lr: float, name: str, flag: bool, limit: int | None = None, sizes: tuple = ()):
    return width, lr, name, flag, limit, sizes


def test_scalar_annotations_are_read_and_other_kinds_are_left_to_the_factory():
    assert scalar_types(_factory) == {
        "width": "int",
        "lr": "float",
        "name": "str",
        "flag": "bool",
        "limit": "int | None",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"width": 2.0}, "width must be int, got 2.0"),
        ({"width": True}, "width must be int, got True"),
        ({"width": "16"}, "width must be int, got '16'"),
        ({"lr": "3e-4"}, "lr must be float, got '3e-4'"),
        ({"flag": 1}, "flag must be bool, got 1"),
        ({"name": 3}, "name must be str, got 3"),
        ({"limit": 1.5}, "limit must be int | None, got 1.5"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_parameter(params, message):
    with pytest.raises(ValueError, match="^toy 'f' parameter " + message.replace("(", r"\(").replace("|", r"\|")):
        refuse_wrong_types("toy 'f'", scalar_types(_factory), params)


def test_values_of_the_right_type_pass_and_an_int_is_a_float():
    refuse_wrong_types("toy", scalar_types(_factory), {"width": 3, "lr": 1, "name": "a", "flag": False, "limit": None})


def test_a_registry_checks_the_types_of_what_a_config_states():
    registry = Registry("toy")
    registry.register("f")(_factory)
    registry.check_parameters("f", {"width": 3, "sizes": (1, 2)})
    with pytest.raises(ValueError, match="toy 'f' parameter width must be int, got 3.5"):
        registry.check_parameters("f", {"width": 3.5})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.num_samples=0.0", "dataset 'upright_objects' parameter num_samples must be int, got 0.0"),
        ("backbone.width='0.5'", "backbone 'alexnet_bn' parameter width must be float, got '0.5'"),
        ("transforms=[identity, {name: lci, joint_batch: 1}]", "transform 'lci' parameter joint_batch must be bool"),
    ],
)
def test_a_built_in_component_given_a_value_of_the_wrong_type_is_a_config_error_at_load(override, message):
    with pytest.raises(ConfigError, match=message.replace("'", ".").replace("[", r"\[")):
        load_config(QUICKSTART, [override])
