"""Is an inpainter inpainting? Statistics of F's patch centres against the real ones (sec. 4.2.1).

Why: LCI only teaches C about image structure if F fills the hidden centre with something that
could be there. An inpainter that passes its input noise through, or paints one fixed pattern in
every patch, is recognised by C from a few pixels and the pretext task collapses into spotting it
(measured: C at 1.00 accuracy after a tenth of training). These numbers tell the two failures
apart from inpainting, each against a reference a real patch or a trivial fill gives:

* ``centre_mse`` against ``mean_fill_mse``: F's squared error on the centre against filling the
  centre with the mean colour of the border F sees (an inpainter should beat that fill), and
  against ``shuffled_real_mse``, the error of another patch's real centre (a sampler of real
  centres that ignores the border). Why both: an adversarial inpainter *samples* a centre; even a
  perfect sampler of p(centre | border) has twice the conditional variance as its squared error,
  while the fill has the variance plus the fill's bias. Where a thin border says little about
  the centre, a faithful sampler lands between the fill and the shuffled real centre; one near
  the shuffled real centre ignores the border. :func:`nearest_border_real_mse` gives a third
  reference, a sampler of real centres that does read the border: the real centre, from a bank of
  real patches, whose border is nearest (measured on upright_objects, 24 px patches of 32 px images, border
  2: fill 0.060, nearest-border real centre 0.079, shuffled 0.127; the mean of the 16 nearest
  centres, an estimate of the conditional mean rather than a sample, 0.046). So a sampler that
  reads the border well lands *above* the fill, and ``centre_mse < mean_fill_mse`` asks for a
  conditional mean (a blur), which an adversarial F is trained not to paint;
* ``noise_correlation``: |Pearson correlation| of F's centre with the noise that replaced it,
  pooled over the batch after removing each patch's mean (copying the noise gives ≈ 1, ignoring it ≈ 0);
* ``energy_ratio``: the centre's high-frequency (Laplacian) energy over the real centres' (noise
  passed through gives ≫ 1, a blur ≪ 1);
* ``fixed_pattern_share`` and ``fixed_pattern_share_real``: the share of the centres' energy (each
  centre minus its mean) that is common to all patches of the batch, ‖mean_i c_i‖² / mean_i ‖c_i‖²,
  for F's centres and for the real ones (the same stripe in every patch gives ≈ 1).

Gates (issue "Learned transforms that do their job"): ``centre_mse < mean_fill_mse``,
``noise_correlation < 0.05``, ``0.5 ≤ energy_ratio ≤ 2`` and ``fixed_pattern_share < 3 ×
fixed_pattern_share_real``; :func:`quality_gates` reads them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from transformrec.functional.patches import centre_mask

NOISE_CORRELATION_GATE = 0.05
ENERGY_RATIO_RANGE = (0.5, 2.0)
FIXED_PATTERN_FACTOR = 3.0

QUALITY_NAMES = (
    "centre_mse",
    "mean_fill_mse",
    "shuffled_real_mse",
    "noise_correlation",
    "energy_ratio",
    "fixed_pattern_share",
    "fixed_pattern_share_real",
)
"""The keys :func:`inpainting_quality` returns."""

_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def _centre(patches: torch.Tensor, border: int) -> torch.Tensor:
    side = patches.shape[-1]
    return patches[..., border : side - border, border : side - border]


def _laplacian_energy(centres: torch.Tensor) -> torch.Tensor:
    """Mean squared 3×3 Laplacian over the centres' interior (valid convolution: no border pixel enters)."""
    channels = centres.shape[1]
    kernel = _LAPLACIAN.to(centres).expand(channels, 1, 3, 3)
    return F.conv2d(centres, kernel, groups=channels).pow(2).mean()


def _fixed_pattern_share(centres: torch.Tensor) -> torch.Tensor:
    deviations = centres - centres.mean(dim=(-2, -1), keepdim=True)
    common = deviations.mean(dim=0).pow(2).sum()
    return common / deviations.pow(2).sum(dim=(1, 2, 3)).mean().clamp_min(1e-12)


def inpainting_quality(
    inpainted: torch.Tensor, original: torch.Tensor, noise: torch.Tensor, border: int
) -> dict[str, float]:
    """The statistics of the module docstring for one batch of (B, C, P, P) patches.

    ``inpainted`` is F's output r, ``original`` the real patch e, ``noise`` the z that replaced
    e's centre (only its centre is used); ``border`` is the width F saw of e.
    """
    with torch.no_grad():
        inpainted, original, noise = (t.detach().float() for t in (inpainted, original, noise))
        fake_centre, real_centre = _centre(inpainted, border), _centre(original, border)
        frame = 1 - centre_mask(original.shape[-1], border, original.device)
        border_mean = (original * frame).sum(dim=(-2, -1), keepdim=True) / frame.sum().clamp_min(1)
        fake_deviation = fake_centre - fake_centre.mean(dim=(-2, -1), keepdim=True)
        noise_centre = _centre(noise, border)
        noise_deviation = noise_centre - noise_centre.mean(dim=(-2, -1), keepdim=True)
        denominator = (fake_deviation.pow(2).sum() * noise_deviation.pow(2).sum()).sqrt().clamp_min(1e-12)
        real_energy = _laplacian_energy(real_centre).clamp_min(1e-12)
        return {
            "centre_mse": float((fake_centre - real_centre).pow(2).mean()),
            "mean_fill_mse": float((border_mean - real_centre).pow(2).mean()),
            "shuffled_real_mse": float((real_centre.roll(1, dims=0) - real_centre).pow(2).mean()),
            "noise_correlation": float(((fake_deviation * noise_deviation).sum() / denominator).abs()),
            "energy_ratio": float(_laplacian_energy(fake_centre) / real_energy),
            "fixed_pattern_share": float(_fixed_pattern_share(fake_centre)),
            "fixed_pattern_share_real": float(_fixed_pattern_share(real_centre)),
        }


def nearest_border_real_mse(original: torch.Tensor, bank: torch.Tensor, border: int, chunk: int = 256) -> float:
    """Centre MSE of the real centre, among ``bank``'s patches, whose border is nearest to each
    patch of ``original`` (both (B, C, P, P), the border ``border`` px wide; Euclidean distance of
    the border pixels): what a sampler of *real* centres that reads the border scores against the
    true centres (see the module docstring). ``original`` must not be part of ``bank``.
    """
    if original.shape[1:] != bank.shape[1:]:
        raise ValueError(f"patches {tuple(original.shape[1:])} and bank {tuple(bank.shape[1:])} differ in shape")
    with torch.no_grad():
        frame = 1 - centre_mask(original.shape[-1], border, original.device)
        bank_rings = (bank * frame).flatten(1).float()
        errors = []
        for start in range(0, original.shape[0], chunk):
            queries = original[start : start + chunk].float()
            nearest = torch.cdist((queries * frame).flatten(1), bank_rings).argmin(dim=1)
            errors.append((_centre(bank[nearest].float(), border) - _centre(queries, border)).pow(2).flatten(1))
        return float(torch.cat(errors).mean())


def quality_gates(quality: dict[str, float]) -> dict[str, bool]:
    """Whether each gate of the module docstring passes for :func:`inpainting_quality`'s numbers."""
    low, high = ENERGY_RATIO_RANGE
    return {
        "centre_mse_below_mean_fill": quality["centre_mse"] < quality["mean_fill_mse"],
        "noise_correlation": quality["noise_correlation"] < NOISE_CORRELATION_GATE,
        "energy_ratio": low <= quality["energy_ratio"] <= high,
        "fixed_pattern": quality["fixed_pattern_share"] < FIXED_PATTERN_FACTOR * quality["fixed_pattern_share_real"],
    }
