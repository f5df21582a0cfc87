"""Evaluation protocols: linear probes, k-NN (fig. 4.6) and fine-tuning (sec. 4.4); video action
recognition, temporal tasks and retrieval (tables 5.1, 5.3, 5.4); 3D pose regression (table 6.1).

Importing this package registers every protocol, so ``get_evaluation(name)`` works for the
names in :func:`list_evaluations` (``"finetune"``, ``"knn"``, ``"linear_probe"``,
``"video_action"``, ``"video_finetune"``, ``"video_sync"``, ``"video_before_after"``,
``"video_retrieval"``, ``"pose3d"``).
"""

from transformrec.eval.features import extract_features, pool_to_dim
from transformrec.eval.finetune import finetune
from transformrec.eval.knn import knn_evaluation, knn_loocv_accuracy, knn_predict
from transformrec.eval.linear_probe import LinearProbeResult, linear_probe
from transformrec.eval.low_shot import low_shot_indices, stratified_split
from transformrec.eval.pose3d import pose3d_transfer
from transformrec.eval.pose_metrics import mpjpe, nmpjpe, pmpjpe, pose_errors, procrustes_align
from transformrec.eval.registry import get_evaluation, list_evaluations, register_evaluation
from transformrec.eval.temporal_tasks import before_after, synchronization
from transformrec.eval.video_action import finetune_action_classification, frozen_action_classification
from transformrec.eval.video_retrieval import retrieval_hit_rates, video_retrieval

__all__ = [
    "LinearProbeResult",
    "before_after",
    "finetune_action_classification",
    "frozen_action_classification",
    "retrieval_hit_rates",
    "synchronization",
    "video_retrieval",
    "extract_features",
    "finetune",
    "get_evaluation",
    "knn_evaluation",
    "knn_loocv_accuracy",
    "knn_predict",
    "linear_probe",
    "list_evaluations",
    "low_shot_indices",
    "mpjpe",
    "nmpjpe",
    "pmpjpe",
    "pose3d_transfer",
    "pose_errors",
    "procrustes_align",
    "pool_to_dim",
    "register_evaluation",
    "stratified_split",
]
