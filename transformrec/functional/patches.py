"""Square patches at random locations: sampling, extraction, pasting, and the LCI centre mask.

The Limited Context Inpainting transform (sec. 4.2.1) cuts a patch W_Δ out of each image
(eq. 4.2), hides its centre (eq. 4.3) and pastes an inpainted patch back (eq. 4.4). These are
the batched, differentiable pieces: extraction and pasting are gathers and scatters, so
gradients flow from a pasted image back to the patch that was pasted.
"""

from __future__ import annotations

import torch


def patch_side(image_side: int, patch_size: float) -> int:
    """Patch side in pixels: ``patch_size`` ≤ 1 is a fraction of the image side, > 1 is pixels.

    The thesis uses 48×48 patches on 64×64 crops (table 4.1), i.e. a fraction of 0.75.
    """
    side = round(patch_size * image_side) if patch_size <= 1 else int(patch_size)
    if not 1 <= side <= image_side:
        raise ValueError(f"patch_size {patch_size} gives a {side}px patch, which does not fit a {image_side}px image")
    return side


def sample_patch_corners(
    batch: int, height: int, width: int, side: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Top-left corners (B, 2) of ``side``-pixel patches at uniformly random locations Δ ∈ Ω."""
    tops = torch.randint(height - side + 1, (batch,), generator=generator)
    lefts = torch.randint(width - side + 1, (batch,), generator=generator)
    return torch.stack([tops, lefts], dim=1)


def _patch_index(corners: torch.Tensor, side: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    corners = corners.to(device)
    offsets = torch.arange(side, device=device)
    rows = (corners[:, 0:1] + offsets).view(-1, side, 1)  # B × side × 1
    cols = (corners[:, 1:2] + offsets).view(-1, 1, side)  # B × 1 × side
    batch_index = torch.arange(corners.shape[0], device=device).view(-1, 1, 1)
    return batch_index, rows, cols


def extract_patches(images: torch.Tensor, corners: torch.Tensor, side: int) -> torch.Tensor:
    """e_i(p − Δ) = x_i(p) for p ∈ W_Δ (eq. 4.2): (B, C, H, W) → (B, C, side, side)."""
    batch_index, rows, cols = _patch_index(corners, side, images.device)
    return images.permute(0, 2, 3, 1)[batch_index, rows, cols].permute(0, 3, 1, 2)


def paste_patches(images: torch.Tensor, patches: torch.Tensor, corners: torch.Tensor) -> torch.Tensor:
    """Eq. 4.4: the image outside W_Δ, the patch inside; differentiable w.r.t. both inputs."""
    side = patches.shape[-1]
    batch_index, rows, cols = _patch_index(corners, side, images.device)
    channels_last = images.permute(0, 2, 3, 1).index_put(
        (batch_index.expand(-1, side, side), rows.expand(-1, side, side), cols.expand(-1, side, side)),
        patches.permute(0, 2, 3, 1).to(images.dtype),
    )
    return channels_last.permute(0, 3, 1, 2).contiguous()


def centre_mask(side: int, border: int, device: torch.device | str | None = None) -> torch.Tensor:
    """m of eq. 4.3: 1 in the centre of the patch, 0 on a ``border``-pixel frame; shape (1, 1, side, side)."""
    if border < 0 or 2 * border >= side:
        raise ValueError(f"a {border}px border leaves no centre in a {side}px patch")
    mask = torch.zeros(1, 1, side, side, device=device)
    mask[..., border : side - border, border : side - border] = 1.0
    return mask


def hide_centre(patches: torch.Tensor, mask: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The inpainter's input e ⊙ (1 − m) + z ⊙ m (eq. 4.3): only the border survives."""
    return patches * (1 - mask) + noise * mask
