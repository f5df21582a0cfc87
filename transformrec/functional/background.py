"""Background removal and substitution for static cameras (sec. 6.2.2).

Why: with fixed cameras the background is the same in every frame of a view, and a network can
solve the flip (and partly the sync) task from its texture instead of the person. "Since the
dataset consists of non-moving cameras, we compute the background as the median image per view.
Background removal is then performed via simple per-pixel thresholding." Substitution pastes
the person over the background of a random view instead.
"""

from __future__ import annotations

import torch


def median_background(frames: torch.Tensor) -> torch.Tensor:
    """Per-pixel median over frames ``N×C×H×W`` of one static view → ``C×H×W``.

    For an even N this is the mean of the two middle values (numpy's median), not torch's lower one.
    """
    ordered = frames.sort(dim=0).values
    count = frames.shape[0]
    middle = count // 2
    if count % 2:
        return ordered[middle]
    return 0.5 * (ordered[middle - 1] + ordered[middle])


def foreground_mask(images: torch.Tensor, background: torch.Tensor, threshold: float) -> torch.Tensor:
    """Pixels whose largest per-channel difference from the background exceeds ``threshold`` (``…×1×H×W``)."""
    return ((images - background).abs().amax(dim=-3, keepdim=True) > threshold).to(images.dtype)


def remove_background(images: torch.Tensor, background: torch.Tensor, threshold: float, fill: float = 0.0):
    """Keep the foreground, set everything else to ``fill`` (sec. 6.2.2, background removal)."""
    mask = foreground_mask(images, background, threshold)
    return images * mask + fill * (1 - mask)


def substitute_background(
    images: torch.Tensor, background: torch.Tensor, new_background: torch.Tensor, threshold: float
) -> torch.Tensor:
    """Foreground of ``images`` (against its own view's ``background``) over ``new_background``."""
    mask = foreground_mask(images, background, threshold)
    return images * mask + new_background * (1 - mask)
