"""Run configs: one pydantic schema (``kind: pretext`` or ``gan``) with thesis defaults, YAML loading with overrides."""

from transformrec.config.gan_schema import GANConfig, GANEvalConfig
from transformrec.config.loading import RUN_KINDS, ConfigError, apply_override, dump_config, load_config
from transformrec.config.schema import AugmentConfig, Component, EvalConfig, ExperimentConfig, RunConfig, TrainConfig

__all__ = [
    "AugmentConfig",
    "Component",
    "ConfigError",
    "EvalConfig",
    "ExperimentConfig",
    "GANConfig",
    "GANEvalConfig",
    "RUN_KINDS",
    "RunConfig",
    "TrainConfig",
    "apply_override",
    "dump_config",
    "load_config",
]
