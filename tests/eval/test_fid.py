"""FID and IS (sec. 7.3) against scipy.linalg.sqrtm and closed forms."""

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from transformrec.eval.fid import feature_statistics, frechet_distance, inception_score, mean_and_std, score_samples


def _random_covariance(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.standard_normal((d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_frechet_distance_matches_the_scipy_sqrtm_formula():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    s1, s2 = _random_covariance(rng, 5), _random_covariance(rng, 5)
    reference = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference, rel=1e-8)


def test_frechet_distance_of_commuting_gaussians_is_the_closed_form():
    # Diagonal covariances: W2² = ‖μ₁ − μ₂‖² + Σ_i (σ₁ᵢ − σ₂ᵢ)².
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 1 + 4 + (1 - 2) ** 2 + 0 + (3 - 1) ** 2
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected)
    assert frechet_distance(mu1, np.diag(s1), mu1, np.diag(s1)) == pytest.approx(0.0, abs=1e-9)


def test_fid_of_sampled_gaussians_approaches_the_closed_form():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(20000, 2, generator=gen)
    b = torch.randn(20000, 2, generator=gen) * torch.tensor([2.0, 1.0]) + torch.tensor([1.0, 0.0])
    fid = frechet_distance(*feature_statistics(a), *feature_statistics(b))
    assert fid == pytest.approx(1.0 + (2 - 1) ** 2, abs=0.1)


def test_inception_score_is_one_for_identical_predictions_and_k_for_confident_even_classes():
    assert inception_score(torch.randn(1, 7).repeat(30, 1))[0] == pytest.approx(1.0)
    confident = torch.eye(4).repeat(5, 1) * 100.0  # every class equally often, each sample certain
    assert inception_score(confident)[0] == pytest.approx(4.0, rel=1e-6)


def test_inception_score_of_two_samples_matches_the_kl_by_hand():
    p = np.array([[0.9, 0.1], [0.3, 0.7]])
    marginal = p.mean(0)
    expected = math.exp(np.mean([(row * np.log(row / marginal)).sum() for row in p]))
    assert inception_score(torch.tensor(np.log(p)))[0] == pytest.approx(expected, rel=1e-9)


def test_score_samples_uses_features_for_fid_and_logits_for_is():
    def extractor(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return images.flatten(1)[:, :2], images.flatten(1)[:, :3] * 50

    real = torch.randn(400, 1, 2, 2)
    assert score_samples(extractor, real, real.clone(), batch=64).fid == pytest.approx(0.0, abs=1e-9)


def test_mean_and_std_reads_the_last_five_checkpoints():
    assert mean_and_std([100.0, 1, 2, 3, 4, 5]) == pytest.approx((3.0, math.sqrt(2.0)))
