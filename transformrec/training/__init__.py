"""Training: the generic multi-head Trainer and its parts (loss, update strategies, checkpoints, logs)."""

from transformrec.training.bilevel_update import BilevelSteps
from transformrec.training.checkpoint import load_checkpoint, save_atomic
from transformrec.training.model import PretextModel
from transformrec.training.options import TrainOptions
from transformrec.training.trainer import NonFiniteLossError, Trainer
from transformrec.training.update import GradientSteps, UpdateStrategy

__all__ = [
    "BilevelSteps",
    "GradientSteps",
    "NonFiniteLossError",
    "PretextModel",
    "TrainOptions",
    "Trainer",
    "UpdateStrategy",
    "load_checkpoint",
    "save_atomic",
]
