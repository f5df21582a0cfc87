"""The decoy cost reads a classifier's accuracy on decoyed classes with no decoy and with one in every image."""

import torch
from torch import nn

from transformrec.eval.decoy_cost import decoy_cost, reference_decoy_cost
from transformrec.transforms import Identity, LimitedContextInpainting, Rotation, TransformSet


class _Oracle(nn.Module):
    """Tells identity from each rotation (counter-clockwise) by where the bright top-left corner went."""

    def forward(self, images):
        corners = torch.stack(
            [images[:, 0, 0, 0], images[:, 0, -1, 0], images[:, 0, -1, -1], images[:, 0, 0, -1]], dim=1
        )
        return {"transform": torch.cat([corners, torch.zeros(len(images), 1)], 1) * 10}


def _images(n=6):
    images = torch.zeros(n, 1, 16, 16)
    images[:, :, :3, :3] = 1.0
    return images


def test_a_decoy_that_erases_the_cue_costs_the_accuracy_it_erases():
    lci = LimitedContextInpainting(channels=1, width=4, patch_size=16, border=0)
    lci.inpainter = nn.Sequential()  # autoencodes perfectly: no cost
    lci.inpainter.forward = lambda patches: patches
    transform_set = TransformSet([Identity(), Rotation(), lci])
    faithful = decoy_cost(_Oracle(), transform_set, _images())
    assert faithful == {"clean": 100.0, "decoyed": 100.0, "drop": 0.0}

    lci.inpainter.forward = lambda patches: torch.full_like(patches, 0.5)  # erases the whole image
    erased = decoy_cost(_Oracle(), transform_set, _images())
    # every corner is 0.5: argmax of equal scores picks class 0 (identity), right for 1 class of 4
    assert erased["clean"] == 100.0 and erased["decoyed"] == 25.0 and erased["drop"] == 75.0
    assert lci.decoy_for == ("identity", "rotation") and lci.decoy_share == 0.5  # restored


def test_no_decoyed_transform_means_no_measurement():
    lci = LimitedContextInpainting(channels=1, width=4, patch_autoencoding=False)
    assert decoy_cost(_Oracle(), TransformSet([Identity(), Rotation(), lci]), _images()) is None


def _upright(count: int, seed: int) -> torch.Tensor:
    """Images whose orientation is plain to see: a bright top band over noise."""
    generator = torch.Generator().manual_seed(seed)
    images = 0.3 * torch.rand(count, 3, 16, 16, generator=generator)
    images[:, :, :4] += 0.7
    return images


def test_a_decoy_that_keeps_the_image_costs_nothing_and_one_that_erases_it_leaves_chance():
    """Closed forms: an identity decoy gives a drop of exactly 0; a decoy that replaces the image by a
    constant makes all four rotations one image, so exactly a quarter of the balanced rotations is right."""
    train, test = _upright(256, 0), _upright(64, 1)
    kept = reference_decoy_cost(lambda images, generator: images, train, test, seed=0, steps=60)
    assert kept["drop"] == 0 and kept["clean"] > 90
    erased = reference_decoy_cost(lambda images, generator: torch.full_like(images, 0.5), train, test, seed=0, steps=60)
    assert erased["decoyed"] == 25.0 and erased["drop"] > 60
