"""transformrec.functional.subject_crop: the virtual camera rotation and square crops, against closed forms."""

import math

import torch

from transformrec.functional.subject_crop import centering_rotation, crop_square, subject_box


def test_centering_rotation_is_a_rotation_that_puts_the_point_on_the_optical_axis():
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        point = torch.randn(3, generator=generator, dtype=torch.float64) * 1000 + torch.tensor([0, 0, 4000.0])
        rotation = centering_rotation(point)
        torch.testing.assert_close(rotation @ rotation.T, torch.eye(3, dtype=torch.float64))
        assert math.isclose(float(torch.linalg.det(rotation)), 1.0, abs_tol=1e-9)
        torch.testing.assert_close(rotation @ point, torch.tensor([0.0, 0.0, float(point.norm())], dtype=torch.float64))
    assert torch.equal(centering_rotation(torch.tensor([0.0, 0.0, 5.0])), torch.eye(3))


def test_centering_rotation_is_the_smallest_one_a_turn_about_the_axis_orthogonal_to_both():
    # A point to the right (x) of the axis at 45°: a rotation about y by −45° (x stays in the x-z plane).
    rotation = centering_rotation(torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64))
    c = math.cos(math.pi / 4)
    expected = torch.tensor([[c, 0.0, -c], [0.0, 1.0, 0.0], [c, 0.0, c]], dtype=torch.float64)
    torch.testing.assert_close(rotation, expected)


def test_a_crop_of_the_whole_frame_at_its_own_size_is_the_frame():
    image = torch.rand(3, 12, 12, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(crop_square(image, 6.0, 6.0, 6.0, 12), image)


def test_a_crop_centred_on_a_pixel_puts_it_at_the_crop_centre_and_pads_with_zeros():
    image = torch.zeros(1, 20, 20)
    image[0, 3, 4] = 1.0  # pixel (u, v) = (4, 3), centre at (4.5, 3.5)
    crop = crop_square(image, 4.5, 3.5, 2.5, 5)  # 5×5 window of whole pixels around it
    assert math.isclose(float(crop[0, 2, 2]), 1.0, rel_tol=1e-6) and math.isclose(float(crop.sum()), 1.0, rel_tol=1e-6)
    assert crop_square(image, -50.0, -50.0, 5.0, 4).abs().sum() == 0  # wholly outside: zeros


def test_subject_box_is_centred_on_the_root_and_holds_every_joint_with_the_margin():
    uv = torch.tensor([[10.0, 10.0], [4.0, 12.0], [13.0, 1.0]])
    u, v, half = subject_box(uv, root=0, margin=0.5)
    assert (u, v) == (10.0, 10.0) and half == 9.0 * 1.5  # farthest joint: 9 px above the root
