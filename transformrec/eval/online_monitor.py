"""See whether the features improve while pre-training runs: kNN and a linear probe every N steps.

Why: pretext accuracy says the network solves its task, not that its features transfer; a
separate evaluation after the run says so only at the end. solo-learn and lightly monitor a
labelled set during pre-training (an online linear classifier and a kNN); this is the same check
for a run of this package, without touching its training: the backbone's features of a fixed
labelled set are extracted in eval mode (its modes, device and every RNG are left as they were,
see :func:`~transformrec.eval.features.extract_features`), half of the set (seeded) is the
reference and the other half is classified by

- ``knn``: a k-NN vote with cosine similarity on standardised features (k = 20 as solo-learn;
  :func:`~transformrec.eval.knn.knn_predict`, the thesis's kNN);
- ``linear``: a ridge-regression classifier on standardised features, one-hot targets, solved in
  closed form (in the dual when there are fewer images than dimensions): a linear probe that
  takes milliseconds, so it can run every few hundred steps. It is not the thesis's probe (SGD on
  cross-entropy, ``transformrec eval``), whose numbers it tracks but does not equal.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch.utils.data import Dataset, Subset

from transformrec.backbones.base import TappedBackbone
from transformrec.eval.features import extract_features, standardization_stats
from transformrec.eval.knn import knn_predict

PROTOCOLS = ("knn", "linear")


def ridge_classifier_accuracy(
    train_feats: torch.Tensor,
    train_labels: torch.Tensor,
    test_feats: torch.Tensor,
    test_labels: torch.Tensor,
    ridge: float = 1.0,
) -> float:
    """Accuracy of the least-squares linear classifier ``argmax([x, 1] W)`` fitted with an L2 penalty
    ``ridge`` on one-hot targets, features standardised with the training statistics."""
    mean, std = standardization_stats(train_feats)
    x_train = torch.cat([(train_feats.double() - mean) / std, torch.ones(len(train_feats), 1).double()], 1)
    x_test = torch.cat([(test_feats.double() - mean) / std, torch.ones(len(test_feats), 1).double()], 1)
    classes = int(max(int(train_labels.max()), int(test_labels.max()))) + 1
    targets = F.one_hot(train_labels.long(), classes).double()
    count, dims = x_train.shape
    if count < dims:  # the dual: W = Xᵀ (X Xᵀ + λI)⁻¹ Y, an N×N system
        gram = x_train @ x_train.T + ridge * torch.eye(count, dtype=torch.float64)
        scores = x_test @ x_train.T @ torch.linalg.solve(gram, targets)
    else:  # the primal: W = (Xᵀ X + λI)⁻¹ Xᵀ Y, a D×D system
        gram = x_train.T @ x_train + ridge * torch.eye(dims, dtype=torch.float64)
        weights = torch.linalg.solve(gram, x_train.T @ targets)
        scores = x_test @ weights
    return int((scores.argmax(1) == test_labels.long()).sum()) / len(test_labels)


class OnlineMonitor:
    """kNN and linear-probe accuracy of a labelled set's frozen features, every ``every`` steps.

    Args:
        data: a labelled data set (labels ≥ 0); its first ``num_images`` items are used.
        every: training steps between measurements (the last step is always measured).
        taps: backbone taps to measure (default: the last one, the representation the heads read).
        protocols: ``knn`` and/or ``linear`` (see the module docstring).
        k: neighbours of the kNN vote.
        num_images: images of ``data`` used, half as the reference, half as queries (seeded split).
        seed: seeds that split.
        target_dim: feature maps are average-pooled to about this many dimensions (as the probes do).
    """

    def __init__(
        self,
        data: Dataset,
        every: int = 500,
        taps: Sequence[str] | None = None,
        protocols: Sequence[str] = PROTOCOLS,
        k: int = 20,
        num_images: int | None = 1000,
        seed: int = 0,
        target_dim: int = 2048,
    ) -> None:
        unknown = sorted(set(protocols) - set(PROTOCOLS))
        if unknown or not protocols:
            raise ValueError(f"monitor protocols must be among {', '.join(PROTOCOLS)}, got {list(protocols)}")
        if every < 1 or k < 1:
            raise ValueError(f"monitor every and k must be >= 1, got every={every}, k={k}")
        count = len(data) if num_images is None else min(num_images, len(data))  # type: ignore[arg-type]
        if count < 2 * k:
            raise ValueError(f"monitor data: {count} images, fewer than the 2k = {2 * k} a kNN of k={k} needs")
        self.data = Subset(data, range(count)) if count < len(data) else data  # type: ignore[arg-type]
        self.every, self.taps, self.protocols, self.k = every, tuple(taps) if taps else None, tuple(protocols), k
        self.target_dim = target_dim
        order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
        self.reference, self.queries = order[: count // 2], order[count // 2 :]

    def due(self, step: int, total_steps: int) -> bool:
        """Whether step ``step`` (1-based) of ``total_steps`` is measured."""
        return step % self.every == 0 or step == total_steps

    def __call__(self, backbone: TappedBackbone, device: torch.device | str = "cpu") -> dict[str, float]:
        """``{"monitor/<protocol>/<tap>": accuracy}`` for the backbone as it is now; nothing is changed."""
        taps = self.taps or (backbone.tap_names[-1],)
        features, labels = extract_features(backbone, self.data, taps, device=device, target_dim=self.target_dim)
        if int(labels.min()) < 0:
            raise ValueError("monitor data must be labelled (an unlabelled image folder has label -1)")
        reference_labels, query_labels = labels[self.reference], labels[self.queries]
        values: dict[str, float] = {}
        for tap in taps:
            reference, queries = features[tap][self.reference], features[tap][self.queries]
            if "knn" in self.protocols:
                predicted = knn_predict(reference, reference_labels, queries, self.k)
                values[f"monitor/knn/{tap}"] = int((predicted == query_labels).sum()) / len(query_labels)
            if "linear" in self.protocols:
                values[f"monitor/linear/{tap}"] = ridge_classifier_accuracy(
                    reference, reference_labels, queries, query_labels
                )
        return values

    def __repr__(self) -> str:
        return f"OnlineMonitor(every={self.every}, taps={self.taps}, protocols={self.protocols}, k={self.k})"
