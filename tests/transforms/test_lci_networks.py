"""LCI's networks: the packed patch discriminator of the authors' code."""

import pytest
import torch

from transformrec.transforms.lci_networks import PatchDiscriminator


def test_a_packed_discriminator_judges_consecutive_patches_together_and_sees_their_pairing():
    """The authors' D sees two patches stacked on channels: the logits of a pair change when one
    patch of the pair changes, and a pair is not the sum of its patches judged alone."""
    torch.manual_seed(0)
    d = PatchDiscriminator(3, 8, pack=2).eval()  # no spectral-norm power iteration between calls
    patches = torch.rand(6, 3, 16, 16)
    scores = d(patches)
    assert scores.shape == (3, 1, 2, 2)
    changed = patches.clone()
    changed[3] = torch.rand(3, 16, 16)  # second patch of the second pair
    new = d(changed)
    assert (
        torch.allclose(new[0], scores[0])
        and torch.allclose(new[2], scores[2])
        and not torch.allclose(new[1], scores[1])
    )
    stacked = patches.reshape(3, 6, 16, 16)
    assert torch.allclose(d.net(stacked), scores)
    assert d(torch.rand(7, 3, 16, 16)).shape[0] == 3  # an odd patch out is dropped
    with pytest.raises(ValueError, match="pack"):
        PatchDiscriminator(3, 8, pack=0)


@pytest.mark.parametrize("stages, bottleneck", [(3, 3), (2, 6), (1, 12)])
def test_the_inpainters_bottleneck_is_the_patch_over_two_to_the_stages(stages, bottleneck):
    """The authors' three stages leave 6×6 of a 48 px patch; on 24 px patches that takes two."""
    from transformrec.transforms.lci_networks import Inpainter

    inpainter = Inpainter(3, 4, stages)
    patches = torch.rand(2, 3, 24, 24)
    code = inpainter.encoder(inpainter.stem(2 * patches - 1))
    assert code.shape == (2, 4 * 2**stages, bottleneck, bottleneck)
    assert inpainter(patches).shape == patches.shape
    with pytest.raises(ValueError, match="stride-2 stage"):
        Inpainter(3, 4, 0)
