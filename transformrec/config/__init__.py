"""Experiment configs: pydantic schema with thesis defaults, YAML loading with overrides, builders."""

from transformrec.config.loading import ConfigError, apply_override, dump_config, load_config
from transformrec.config.schema import AugmentConfig, Component, EvalConfig, ExperimentConfig, TrainConfig

__all__ = [
    "AugmentConfig",
    "Component",
    "ConfigError",
    "EvalConfig",
    "ExperimentConfig",
    "TrainConfig",
    "apply_override",
    "dump_config",
    "load_config",
]
