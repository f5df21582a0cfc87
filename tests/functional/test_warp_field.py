"""Dense flow and image warping: exactness at control points, identity, differentiability."""

import pytest
import torch

from transformrec.functional.warp import control_grid, dense_flow, pixel_centers, sample_offsets, warp_images


def test_zero_offsets_leave_images_unchanged():
    images = torch.rand(2, 3, 16, 16)
    out = warp_images(images, torch.zeros(2, 16, 2), grid_size=4)
    torch.testing.assert_close(out, images, atol=1e-5, rtol=0)


def test_constant_offset_is_a_translation():
    # One pixel right in normalised units is 2/W; the affine term carries a constant shift exactly.
    images = torch.rand(1, 1, 8, 8, dtype=torch.float64)
    offsets = torch.zeros(1, 9, 2, dtype=torch.float64)
    offsets[..., 0] = 2 / 8
    out = warp_images(images, offsets, grid_size=3, padding_mode="zeros")
    torch.testing.assert_close(out[..., :, :-1], images[..., :, 1:])


def test_dense_flow_matches_scipy_thin_plate_spline_at_pixel_centres():
    import numpy as np
    from scipy.interpolate import RBFInterpolator

    offsets = torch.randn(2, 16, 2, dtype=torch.float64)
    flow = dense_flow(offsets, 12, 10, grid_size=4)
    assert flow.shape == (2, 12, 10, 2)
    centres = pixel_centers(12, 10, dtype=torch.float64).numpy()
    for b in range(2):
        reference = RBFInterpolator(
            control_grid(4, dtype=torch.float64).numpy(), offsets[b].numpy(), kernel="thin_plate_spline", degree=1
        )(centres)
        np.testing.assert_allclose(flow[b].reshape(-1, 2).numpy(), reference, atol=1e-8)


def test_warp_is_differentiable_with_respect_to_the_image():
    images = torch.rand(2, 3, 12, 12, requires_grad=True)
    offsets = sample_offsets(2, 4, 0.2, torch.Generator().manual_seed(0))
    warp_images(images, offsets, grid_size=4).sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_offsets_are_bounded_and_seeded():
    a = sample_offsets(5, 4, 0.2, torch.Generator().manual_seed(1))
    b = sample_offsets(5, 4, 0.2, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    assert a.abs().max() <= 0.2 and a.shape == (5, 16, 2)


def test_grids_cover_the_image():
    grid = control_grid(3)
    assert grid.min() == -1 and grid.max() == 1 and grid.shape == (9, 2)
    centres = pixel_centers(4, 4)
    torch.testing.assert_close(centres[:4, 0], torch.tensor([-0.75, -0.25, 0.25, 0.75]))


@pytest.mark.parametrize("layout", ["as drawn", "contiguous"])
def test_the_batched_float32_warp_matches_a_per_image_float64_warp_to_1e_5(layout):
    """One GEMM for the whole batch (the fast path) against the spline evaluated image by image in float64;
    offsets as :func:`sample_offsets` returns them (a transposed view) and as a caller may build them."""
    from transformrec.functional.polyharmonic import interpolation_operator

    images = torch.rand(8, 3, 64, 48)
    offsets = sample_offsets(8, 4, 0.2, torch.Generator().manual_seed(3))
    offsets = offsets.contiguous() if layout == "contiguous" else offsets
    operator = interpolation_operator(pixel_centers(64, 48, dtype=torch.float64), control_grid(4, dtype=torch.float64))
    grids = torch.stack([pixel_centers(64, 48, dtype=torch.float64) + operator @ o.double() for o in offsets])
    reference = torch.nn.functional.grid_sample(
        images.double(), grids.view(8, 64, 48, 2), mode="bilinear", padding_mode="reflection", align_corners=False
    )
    torch.testing.assert_close(warp_images(images, offsets, grid_size=4).double(), reference, atol=1e-5, rtol=0)
