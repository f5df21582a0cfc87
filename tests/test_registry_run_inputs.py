"""What a builder fills from the run is declared at registration, and matches the factories.

Builders used to fill ``channels``, ``seed``, ``image_size``, ``device`` ... whenever a factory had
a parameter of that name, so renaming a parameter silently changed behaviour. Now each registration
declares its ``run_inputs``; these tests check every declaration against the factory's signature
(a declared input the factory does not take would fail at build time) and that no factory takes
one of the run's values without declaring it (it would silently stop being filled).
"""

import inspect

import pytest

import transformrec.backbones  # noqa: F401 - registers the backbones
import transformrec.data  # noqa: F401
import transformrec.eval  # noqa: F401
import transformrec.transforms  # noqa: F401
from transformrec.backbones.registry import BACKBONES
from transformrec.data.registry import DATASETS
from transformrec.eval.registry import EVALUATIONS
from transformrec.registry import Registry, UnknownNameError
from transformrec.transforms.registry import TRANSFORMS

# The run's values each kind of builder fills (config/build.py, config/gan_build.py, experiment.py).
FILLED = {
    "transform": {"channels", "seed"},
    "backbone": {"in_channels", "image_size"},
    "dataset": {"image_size", "split"},
    "evaluation": {"labels_per_class", "device", "seed", "progress", "bilevel", "save_to"},
}
REGISTRIES = [TRANSFORMS, BACKBONES, DATASETS, EVALUATIONS]


@pytest.mark.parametrize("registry", REGISTRIES, ids=lambda r: r.kind)
def test_every_declared_run_input_is_a_parameter_and_every_filled_parameter_is_declared(registry):
    for name in registry.names():
        parameters = set(inspect.signature(registry.get(name)).parameters)
        declared = registry.run_inputs(name)
        assert declared <= parameters, f"{registry.kind} {name}: declares {sorted(declared - parameters)}"
        undeclared = (parameters & FILLED[registry.kind]) - declared
        assert not undeclared, f"{registry.kind} {name} takes {sorted(undeclared)} without declaring them"


def test_the_builder_fills_a_declared_input_from_the_data():
    import torch

    from transformrec.config.build import build_backbone_for
    from transformrec.config.schema import Component

    class Grey:  # a data set as the builder sees it: one channel of 32 px images
        channels, image_size = 1, 32

    alexnet = build_backbone_for(Component(name="alexnet_bn", params={"width": 0.25}), Grey())
    assert alexnet.in_channels == 1  # declared, so filled from the data
    assert alexnet(torch.rand(2, 1, 32, 32)).shape[0] == 2  # and the network takes grey 32 px images


def test_a_registry_remembers_run_inputs_per_name_and_names_unknown_ones():
    registry: Registry = Registry("widget")
    registry.register("plain")(dict)
    registry.register("seeded", run_inputs=("seed",))(dict)
    assert registry.run_inputs("plain") == frozenset() and registry.run_inputs("seeded") == {"seed"}
    with pytest.raises(UnknownNameError, match="Did you mean 'seeded'"):
        registry.run_inputs("seedd")


def _factory(size: int, seed: int = 0):
    return (size, seed)


def _open_factory(size: int, **extra):
    return (size, extra)


def test_check_parameters_names_the_unknown_key_and_the_accepted_ones():
    registry = Registry("widget")
    registry.register("plain")(_factory)
    registry.register("open")(_open_factory)
    registry.check_parameters("plain", {"size": 3})
    with pytest.raises(ValueError, match=r"^widget 'plain' has no parameter sise; accepted: size, seed$"):
        registry.check_parameters("plain", {"sise": 3})
    registry.check_parameters("open", {"anything": 1})  # **extra takes any key
    with pytest.raises(ValueError, match=r"has no option seed; accepted: size$"):
        registry.check_parameters("plain", {"seed": 1}, reserved=("seed",), noun="option")
