"""Evaluation protocols of sec. 4.4: linear probes, k-NN (fig. 4.6) and fine-tuning.

Importing this package registers every protocol, so ``get_evaluation(name)`` works for the
names in :func:`list_evaluations` (``"finetune"``, ``"knn"``, ``"linear_probe"``).
"""

from transformrec.eval.features import extract_features, pool_to_dim
from transformrec.eval.finetune import finetune
from transformrec.eval.knn import knn_evaluation, knn_loocv_accuracy, knn_predict
from transformrec.eval.linear_probe import LinearProbeResult, linear_probe
from transformrec.eval.low_shot import low_shot_indices, stratified_split
from transformrec.eval.registry import get_evaluation, list_evaluations, register_evaluation

__all__ = [
    "LinearProbeResult",
    "extract_features",
    "finetune",
    "get_evaluation",
    "knn_evaluation",
    "knn_loocv_accuracy",
    "knn_predict",
    "linear_probe",
    "list_evaluations",
    "low_shot_indices",
    "pool_to_dim",
    "register_evaluation",
    "stratified_split",
]
