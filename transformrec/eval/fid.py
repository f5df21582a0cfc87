"""FID and IS for generators (sec. 7.3), with a pluggable feature extractor.

FID [215] is the Fréchet distance between Gaussians fitted to features of real and generated
images, ‖μ_r − μ_g‖² + tr(Σ_r + Σ_g − 2(Σ_r Σ_g)^{1/2}); IS [33] is exp E_x KL(p(y|x) ‖ p(y)).
The thesis computes both with Inception-v3 on 10K samples and reports the mean ± std over the
last five checkpoints (``mean_and_std``). Any ``FeatureExtractor`` (images → (features,
logits)) can stand in for Inception: see ``transformrec.eval.gan_features`` for the standard
Inception weights loaded from a local file and an offline Fashion-MNIST classifier. Numbers
from different extractors are not comparable with each other, nor with the thesis' tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch

FeatureExtractor = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^{1/2}), the FID of two feature Gaussians.

    tr((Σ₁Σ₂)^{1/2}) is computed as the sum of square roots of the eigenvalues of the symmetric
    PSD matrix Σ₁^{1/2} Σ₂ Σ₁^{1/2} (similar to Σ₁Σ₂), which avoids the complex round-off a
    general matrix square root produces on nearly singular covariances.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    root1 = _sqrt_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    trace_sqrt = float(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum())
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt)


def feature_statistics(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of N×D features, in float64."""
    array = features.detach().double().cpu().numpy()
    return array.mean(0), np.cov(array, rowvar=False)


def inception_score(logits: torch.Tensor, splits: int = 1) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) ‖ p(y))) over ``splits`` equal parts: (mean, std), as in [33] (10 splits there)."""
    log_p = torch.log_softmax(logits.double(), dim=1)
    scores = []
    for part in log_p.chunk(splits):
        log_marginal = torch.logsumexp(part, 0) - math.log(part.shape[0])
        kl = (part.exp() * (part - log_marginal)).sum(1).mean()
        scores.append(float(kl.exp()))
    return float(np.mean(scores)), float(np.std(scores))


@torch.no_grad()
def extract(extractor: FeatureExtractor, images: Iterable[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenated (features, logits) of batches of images."""
    features, logits = zip(*(extractor(batch) for batch in images), strict=True)
    return torch.cat(features), torch.cat(logits)


@dataclass(frozen=True)
class GenerativeScores:
    fid: float
    inception_score: float


def score_samples(extractor: FeatureExtractor, real: torch.Tensor, fake: torch.Tensor, batch: int = 500):
    """FID of ``fake`` against ``real`` and IS of ``fake`` (images in the extractor's expected range)."""
    real_features, _ = extract(extractor, real.split(batch))
    fake_features, fake_logits = extract(extractor, fake.split(batch))
    fid = frechet_distance(*feature_statistics(real_features), *feature_statistics(fake_features))
    return GenerativeScores(fid=fid, inception_score=inception_score(fake_logits)[0])


def mean_and_std(values: Iterable[float], last: int = 5) -> tuple[float, float]:
    """Mean ± std over the last ``last`` checkpoints: the thesis' stability measure (sec. 7.3)."""
    tail = list(values)[-last:]
    return float(np.mean(tail)), float(np.std(tail))
