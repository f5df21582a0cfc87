"""Training: the generic multi-head Trainer and its parts (loss, update strategies, checkpoints, logs).

Names are imported on first use (``transformrec.lazy_exports``): importing ``transformrec.training.options``
for a config costs no torch.
"""

from transformrec.lazy_exports import lazy_exports

_EXPORTS = {
    "BilevelSteps": "transformrec.training.bilevel_update",
    "GradientSteps": "transformrec.training.update",
    "NonFiniteLossError": "transformrec.training.trainer",
    "PretextModel": "transformrec.training.model",
    "TrainOptions": "transformrec.training.options",
    "Trainer": "transformrec.training.trainer",
    "UpdateStrategy": "transformrec.training.update",
    "load_checkpoint": "transformrec.training.checkpoint",
    "save_atomic": "transformrec.training.checkpoint",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
