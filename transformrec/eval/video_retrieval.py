"""Nearest-neighbour video retrieval of table 5.4.

Protocol (sec. 5.3, after [49]): features of the global-average-pool layer, averaged over 10
temporal crops per video, standardized with the training set's statistics, compared by cosine
similarity. Test videos query the training videos; a query counts as correct at k when at least
one of its k nearest neighbours has the query's class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias

from transformrec.backbones.base import TappedBackbone
from transformrec.eval.feature_mlp import standardize
from transformrec.eval.registry import register_evaluation
from transformrec.eval.video_features import video_clip_features

TOP_K = (1, 5, 10, 20, 50)


def retrieval_hit_rates(
    reference: torch.Tensor,
    reference_labels: torch.Tensor,
    queries: torch.Tensor,
    query_labels: torch.Tensor,
    ks: Sequence[int] = TOP_K,
) -> dict[int, float]:
    """Fraction of queries with a same-class video among their k most cosine-similar references."""
    similarity = F.normalize(queries, dim=1) @ F.normalize(reference, dim=1).T
    order = similarity.argsort(dim=1, descending=True)
    same = reference_labels[order] == query_labels[:, None]
    return {k: float(same[:, : min(k, reference.shape[0])].any(1).float().mean()) for k in ks}


@register_evaluation("video_retrieval", run_inputs=("device", "seed"))
def video_retrieval(
    backbone: TappedBackbone,
    train_set,
    test_set,
    tap: str = "pool",
    crops: int = 10,
    speed: int = 2,
    ks: Sequence[int] = TOP_K,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> dict[str, Any]:
    """Table 5.4: top-k retrieval accuracy of test videos against training videos."""
    train_features = video_clip_features(backbone, train_set, tap, crops, speed, device=device).mean(1)
    test_features = video_clip_features(backbone, test_set, tap, crops, speed, device=device).mean(1)
    train_features, test_features = standardize(train_features, test_features)
    rates = retrieval_hit_rates(train_features, train_set.labels, test_features, test_set.labels, ks)
    return {
        "top_k": {str(k): v for k, v in rates.items()},
        "test_acc": rates[min(ks)],
        "settings": {"tap": tap, "crops": crops, "speed": speed},
    }
