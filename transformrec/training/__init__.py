"""Training: the generic multi-head Trainer and its parts (loss, update strategies, checkpoints, logs)."""

from transformrec.training.checkpoint import load_checkpoint, save_atomic
from transformrec.training.model import PretextModel
from transformrec.training.trainer import NonFiniteLossError, Trainer

__all__ = ["NonFiniteLossError", "PretextModel", "Trainer", "load_checkpoint", "save_atomic"]
