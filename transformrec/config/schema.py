"""Pydantic models of an experiment config; defaults follow the thesis (sec. 4.4).

Every run kind shares :class:`RunConfig` (``kind``, ``seed``, ``device``, ``output_dir``, ``data``)
and one loader (``config/loading.py``): ``kind: pretext`` (the default, :class:`ExperimentConfig`)
is a transformation-recognition run; ``kind: gan`` (:class:`~transformrec.config.gan_schema.GANConfig`)
a chapter-7 GAN run.

A named component is written in YAML either as a bare name (``- rotation``) or as a mapping
with ``name`` and its keyword arguments (``- {name: warp, order: 2}``). Names are checked
against the registries when the config is validated, so a typo fails before any training.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from transformrec.component_index import Components
from transformrec.strict_numbers import StrictNumbers
from transformrec.training.options import TrainOptions

# The components a config may name, known without importing them (transformrec/component_index.py).
BACKBONES, DATASETS, EVALUATIONS, TRANSFORMS = (
    Components(k) for k in ("backbone", "dataset", "evaluation", "transform")
)


class Strict(StrictNumbers):
    """Unknown keys are errors: a misspelled option must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Component(Strict):
    """A registered component and its keyword arguments."""

    name: str = Field(description="the registered name (`transformrec list` shows them)")
    params: dict[str, Any] = Field(default_factory=dict, description="keyword arguments of the registered factory")

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value}
        if isinstance(value, dict) and "name" in value:
            if not isinstance(value.get("params", {}), dict):
                raise ValueError(f"params must be a mapping of keyword arguments, got {value['params']!r}")
            params = dict(value.get("params", {}))
            params.update({k: v for k, v in value.items() if k not in ("name", "params")})
            return {"name": value["name"], "params": params}
        return value


def check_registered(component: Component, registry, kind: str) -> Component:
    """Reject unknown names, and parameters the registered factory does not take, at load time."""
    if component.name not in registry:
        raise ValueError(f"unknown {kind} {component.name!r}; known: {', '.join(registry.names())}")
    registry.check_parameters(component.name, component.params)
    return component


class AugmentConfig(Strict):
    """Random crop (reflect padding) and horizontal flip, applied batched (sec. 4.4)."""

    padding: int = Field(4, ge=0, description="reflect padding of the random crop, in pixels (0: no crop)")
    hflip: bool = Field(True, description="random horizontal flip")


class RotationJitterConfig(Strict):
    """Small random rotations of some classes' samples after transforming (the authors' LCI code:
    half of the identity, LCI and warp images by up to ±12.6°), so resampling blur stops being a
    class cue; off by default, as in the thesis text."""

    degrees: float = Field(12.6, gt=0, le=45, description="largest rotation angle, drawn uniformly in ±degrees")
    share: float = Field(0.5, ge=0, le=1, description="share of those classes' samples that are rotated")
    classes: list[str] = Field(
        default_factory=lambda: ["identity", "lci", "warp"],
        min_length=1,
        description="classes whose samples are jittered",
    )


class BilevelConfig(Strict):
    """Deep bilevel learning (chapter 8): k mini-batches per step, weighted by eq. 8.10.

    Defaults are the ablation baseline of sec. 8.4.1 (k = 8, μ = 0.01, λ = 1, L¹ constraint,
    one weight per mini-batch, identical dropout, label-balanced mini-batches). The switches are
    the ablations of table 8.1: ``l1_normalize`` (a), ``per_layer`` (b), ``balanced`` (c),
    ``same_dropout`` (d). With bilevel on, a step consumes ``k × batch_size`` samples, so an
    epoch still visits every sample once (the equal-visits comparison of sec. 8.2.1).
    """

    k: int = Field(8, ge=2, description="mini-batches per step: one validation batch and k - 1 training batches")
    mu: float = Field(0.01, ge=0, description="μ of eq. 8.10 (divided by the learning rate: μ̂ = μ/ε)")
    lambda_: float = Field(1.0, gt=0, description="λ of eq. 8.10 (divided by the learning rate: λ̂ = λ/ε)")
    per_layer: bool = Field(False, description="one weight per layer instead of per mini-batch (table 8.1 b)")
    l1_normalize: bool = Field(True, description="normalise the weights to |ω|₁ = 1 (table 8.1 a)")
    same_dropout: bool = Field(True, description="one dropout mask for all k mini-batches (table 8.1 d)")
    balanced: bool = Field(True, description="mini-batches with identical label counts (Remark 1; table 8.1 c)")
    method: Literal["vmap", "loop"] = Field(
        "vmap", description="per-batch gradients by torch.func.vmap(grad) or by k backward passes"
    )


class TrainConfig(TrainOptions):
    """Pretext training: the Trainer's own :class:`~transformrec.training.options.TrainOptions` (one
    source of options and defaults for Python and YAML) plus the parts this config builds into
    objects: the augmentation, rotation jitter and the bilevel update strategy (chapter 8)."""

    model_config = ConfigDict(extra="forbid", frozen=False)

    augment: AugmentConfig | None = Field(
        default_factory=AugmentConfig, description="random crop + flip before transforming (sec. 4.4); null: none"
    )
    rotation_jitter: RotationJitterConfig | None = Field(
        None, description="small random rotations of some classes after transforming (the authors' LCI code)"
    )
    bilevel: BilevelConfig | None = Field(
        None, description="train with the bilevel update of chapter 8 around AdamW (null: plain gradient steps)"
    )


class EvalConfig(Strict):
    """Transfer evaluation of the pretrained backbone (linear probe per tap, kNN, fine-tuning).

    ``bilevel`` trains the protocol's classifier with the bilevel optimiser of chapter 8; only
    protocols that train (``linear_probe``, ``finetune``) accept it.
    """

    protocol: str = Field("linear_probe", description="a registered evaluation (`transformrec list`)")
    train_data: Component = Field(
        default_factory=lambda: Component(name="upright_objects", params={"split": "train"}),
        description="the labelled images the protocol trains on",
    )
    test_data: Component = Field(
        default_factory=lambda: Component(name="upright_objects", params={"split": "test"}),
        description="the labelled images accuracy is measured on",
    )
    labels_per_class: int | None = Field(100, ge=1, description="labelled images per class used (null: all)")
    random_baseline: bool = Field(True, description="also evaluate a random-init backbone and print the gain")
    options: dict[str, Any] = Field(default_factory=dict, description="keyword options of the protocol")
    bilevel: BilevelConfig | None = Field(None, description="train the protocol's classifier with the bilevel update")

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, name: str) -> str:
        if name not in EVALUATIONS:
            raise ValueError(f"unknown evaluation {name!r}; known: {', '.join(EVALUATIONS.names())}")
        return name

    @field_validator("train_data", "test_data")
    @classmethod
    def _known_data(cls, component: Component) -> Component:
        return check_registered(component, DATASETS, "dataset")

    @model_validator(mode="after")
    def _options_the_protocol_takes(self) -> EvalConfig:
        EVALUATIONS.check_parameters(
            self.protocol, self.options, reserved=("backbone", "train_set", "test_set", "save_to"), noun="option"
        )
        return self

    @model_validator(mode="after")
    def _bilevel_needs_training(self) -> EvalConfig:
        if self.bilevel is not None and "bilevel" not in EVALUATIONS.run_inputs(self.protocol):
            raise ValueError(f"evaluation {self.protocol!r} trains nothing, so it cannot use bilevel")
        return self


class RunConfig(Strict):
    """What every run kind has: its kind, seed, device, output folder and training data."""

    kind: str
    seed: int = Field(0, ge=0, le=2**63 - 1, description="seeds every random draw of the run (torch takes 64 bits)")
    device: str = Field(
        "auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$", description="auto (CUDA when available), cpu, cuda or cuda:N"
    )
    output_dir: str = Field("runs/experiment", description="the run's folder; ~ and $VARIABLES are expanded")
    data: Component = Field(
        default_factory=lambda: Component(name="upright_objects"),
        description="the training data (a registered data set)",
    )
    threads: int | None = Field(
        None,
        ge=1,
        le=1024,
        description="torch intra-op threads (None: torch's default); two runs sharing 2 cores want 1 each",
    )
    progress: bool | None = Field(
        None, description="progress of long steps (None = true): a bar on a terminal, plain lines in a log; false: off"
    )

    @field_validator("data")
    @classmethod
    def _known_dataset(cls, component: Component) -> Component:
        return check_registered(component, DATASETS, "dataset")

    @field_validator("output_dir")
    @classmethod
    def _a_folder(cls, value: str) -> str:
        """Non-empty (an empty one wrote into the working directory), with ``~`` and ``$VAR`` expanded."""
        expanded = os.path.expandvars(os.path.expanduser(value.strip()))
        if not expanded:
            raise ValueError("must name a folder (an empty output_dir would write into the working directory)")
        return expanded


class MonitorConfig(Strict):
    """The online monitor: kNN and a fast linear probe on a labelled set every ``every`` steps of
    pre-training (:class:`~transformrec.eval.online_monitor.OnlineMonitor`)."""

    data: Component = Field(description="a labelled data set; half of its first num_images are the reference")
    every: int = Field(500, ge=1, description="training steps between measurements (and the last step)")
    protocols: list[Literal["knn", "linear"]] = Field(
        default_factory=lambda: ["knn", "linear"], min_length=1, description="kNN vote and/or closed-form linear probe"
    )
    taps: list[str] | None = Field(None, description="backbone taps to measure (default: the last)")
    k: int = Field(20, ge=1, description="neighbours of the kNN vote (solo-learn's 20)")
    num_images: int | None = Field(1000, ge=2, description="images of data used (None: all)")

    @field_validator("data")
    @classmethod
    def _known_data(cls, component: Component) -> Component:
        return check_registered(component, DATASETS, "dataset")


class ExperimentConfig(RunConfig):
    """One pretext experiment: data, backbone, transform set, pretext training and evaluation."""

    kind: Literal["pretext"] = Field("pretext", description="a transformation-recognition run")
    backbone: Component = Field(
        default_factory=lambda: Component(name="alexnet_bn"), description="the network whose features are learned"
    )
    transforms: list[Component] = Field(
        default_factory=lambda: [Component(name=n) for n in ("identity", "rotation", "warp")],
        min_length=1,
        description="the transforms whose classes the classifier tells apart (the label space)",
    )
    train: TrainConfig = Field(default_factory=TrainConfig, description="pretext training options")
    evaluation: EvalConfig = Field(
        default_factory=EvalConfig, description="the transfer evaluation of `transformrec eval`"
    )
    monitor: MonitorConfig | None = Field(None, description="online kNN / linear-probe accuracy during pre-training")

    @field_validator("backbone")
    @classmethod
    def _known_backbone(cls, component: Component) -> Component:
        return check_registered(component, BACKBONES, "backbone")

    @field_validator("transforms")
    @classmethod
    def _known_transforms(cls, components: list[Component]) -> list[Component]:
        return [check_registered(c, TRANSFORMS, "transform") for c in components]
