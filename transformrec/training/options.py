"""The options of a pretext training run, in one typed object shared by Python and YAML.

:class:`TrainOptions` is the single source of the Trainer's options and their defaults (sec. 4.4):
``Trainer(..., epochs=5)`` validates its keyword options into one, and the YAML ``train:`` section
(:class:`~transformrec.config.schema.TrainConfig`) *is* one, extended with the parts a config
builds into objects (``augment``, ``rotation_jitter``, ``bilevel``). Adding a training option is
one field here plus its use in the Trainer; the config, its validation and its one-line errors
follow from the field.

What is not an option but a built part (the augmentation, the update strategy, the online
monitor) or a property of the run (seed, device, output folder, resume) stays a Trainer argument.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, field_validator

from transformrec.strict_numbers import StrictNumbers

__all__ = ["TrainOptions", "options_from"]


class TrainOptions(StrictNumbers):
    """Pretext training options; optimiser defaults are the thesis's AdamW + cosine schedule (sec. 4.4).

    Unknown keys are errors, so a misspelled option is never silently ignored.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["all", "sample"] = Field(
        "all", description="all: each image under every transform (eq. 4.1); sample: one transform per image"
    )
    epochs: int = Field(200, ge=1, description="passes over the data (ignored when steps is set)")
    batch_size: int = Field(64, ge=1, description="global batch size: real images per step")
    lr: float = Field(3e-4, gt=0, allow_inf_nan=False, description="AdamW's initial learning rate")
    final_lr: float = Field(3e-7, ge=0, allow_inf_nan=False, description="learning rate at the last step")
    schedule: Literal["cosine", "linear"] = Field("cosine", description="lr decay from lr to final_lr (ch. 3: linear)")
    betas: tuple[float, float] = Field((0.5, 0.99), description="AdamW's betas")
    weight_decay: float = Field(1e-4, ge=0, allow_inf_nan=False, description="AdamW's decoupled weight decay")
    num_workers: int = Field(0, ge=0, description="DataLoader worker processes")
    checkpoint_every: int | None = Field(
        500, ge=1, description="steps between checkpoints (one also ends every epoch); None: at epoch ends only"
    )
    log_every: int = Field(10, ge=1, description="steps between metric rows (CSV, TensorBoard, progress)")
    steps: int | None = Field(
        None, ge=1, description="train exactly this many steps, the lr schedule ending at the last (replaces epochs)"
    )
    max_steps: int | None = Field(
        None, ge=1, description="stop early after this many steps (the schedule is unchanged)"
    )
    amp: bool = Field(False, description="bfloat16/float16 autocast on CUDA (ignored on CPU)")
    channels_last: bool = Field(False, description="NHWC memory layout for image models and batches (faster on CUDA)")
    sync_batchnorm: bool = Field(
        False, description="under torchrun, BatchNorm statistics over the global batch (SyncBatchNorm, CUDA only)"
    )
    tensorboard: bool = Field(True, description="write TensorBoard events beside metrics.csv (when installed)")
    compile: bool = Field(
        False,
        description="torch.compile the network the steps run (compiled at the first step: tens of seconds; "
        "checkpoints keep the plain model's weights). Off by default: on a 2-core CPU it made AlexNet-BN steps "
        "about 1.1x faster after the compile and needs a C++ compiler (the compile_speed benchmark); try it on "
        "long GPU runs",
    )

    @field_validator("betas")
    @classmethod
    def _betas_in_range(cls, betas: tuple[float, float]) -> tuple[float, float]:
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        return betas


def options_from(options: TrainOptions | None, overrides: dict[str, Any]) -> TrainOptions:
    """``options`` (defaults when ``None``) with keyword ``overrides`` applied and validated.

    Only :class:`TrainOptions`' own fields are kept, so a config's ``train`` section (a subclass
    that also carries what it builds into objects) can be passed as it is. An unknown keyword is a
    ``TypeError`` and a bad value a one-line ``ValueError``, both naming the option.
    """
    unknown = sorted(set(overrides) - set(TrainOptions.model_fields))
    if unknown:
        raise TypeError(f"Trainer() got unexpected keyword argument(s) {', '.join(unknown)}")
    if options is not None and not overrides and type(options) is TrainOptions:
        return options
    values = {name: getattr(options, name) for name in TrainOptions.model_fields} if options is not None else {}
    try:
        return TrainOptions(**{**values, **overrides})
    except ValidationError as error:
        raise ValueError(_one_line(error.errors()[0])) from None


_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}


def _one_line(problem: dict[str, Any]) -> str:
    """``epochs must be >= 1, got 0`` for a bound, ``<field>: <pydantic's message>`` otherwise."""
    field = ".".join(str(part) for part in problem["loc"])
    bound = _BOUNDS.get(problem["type"])
    if bound is not None:
        limit = next(iter(problem["ctx"].values()))
        return f"{field} must be {bound} {limit}, got {problem['input']!r}"
    return f"{field}: {problem['msg']}"
