"""Identity, rotation and warp transforms: exactness, label spaces, reproducibility."""

import pytest
import torch

from transformrec.registry import UnknownNameError
from transformrec.transforms import Identity, Rotation, Warp, build_transform, list_transforms


def test_rotation_matches_hand_rotated_pixels():
    image = torch.arange(9.0).view(1, 1, 3, 3)
    out, extra = Rotation().apply(image.repeat(3, 1, 1, 1), torch.tensor([0, 1, 2]))
    assert extra == {}
    # counter-clockwise 90°: the top row becomes the right column read upwards
    assert out[0, 0].tolist() == [[2, 5, 8], [1, 4, 7], [0, 3, 6]]
    assert out[1, 0].tolist() == [[8, 7, 6], [5, 4, 3], [2, 1, 0]]
    assert out[2, 0].tolist() == [[6, 3, 0], [7, 4, 1], [8, 5, 2]]


def test_rotation_subset_and_validation():
    assert Rotation(angles=(180,)).variant_names() == ("rot180",)
    with pytest.raises(ValueError, match="subset"):
        Rotation(angles=(45,))
    with pytest.raises(ValueError, match="square"):
        Rotation().apply(torch.rand(1, 1, 4, 5), torch.tensor([0]))


def test_warp_is_seeded_and_changes_images_by_a_bounded_displacement():
    images = torch.rand(4, 3, 32, 32)
    first, _ = Warp().apply(images, torch.zeros(4, dtype=torch.long), torch.Generator().manual_seed(3))
    second, _ = Warp().apply(images, torch.zeros(4, dtype=torch.long), torch.Generator().manual_seed(3))
    assert torch.equal(first, second)
    assert not torch.allclose(first, images)


def test_warp_rejects_bad_parameters():
    with pytest.raises(ValueError, match="max_offset"):
        Warp(max_offset=0.7)
    with pytest.raises(ValueError, match="grid_size"):
        Warp(grid_size=1)


def test_identity_returns_input():
    images = torch.rand(2, 1, 8, 8)
    assert Identity().apply(images, torch.zeros(2, dtype=torch.long))[0] is images


def test_registry_builds_by_name_and_lists_known_names_on_error():
    assert {"identity", "rotation", "warp"} <= set(list_transforms())
    assert isinstance(build_transform("warp", order=3), Warp)
    with pytest.raises(UnknownNameError, match="rotation") as info:
        build_transform("rotaton")
    assert "Did you mean 'rotation'" in str(info.value)
