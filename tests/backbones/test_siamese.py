"""The Siamese wrapper of ch. 6: shared trunk, the four fusions against hand formulas, torchvision weights."""

import pytest
import torch
import torchvision

from transformrec.backbones import build_backbone
from transformrec.backbones.siamese import fuse


def test_fusions_match_hand_formulas():
    a = torch.tensor([[1.0, -2.0, 3.0]])
    b = torch.tensor([[2.0, 4.0, -1.0]])
    assert fuse(a, b, "mult").tolist() == [[2.0, 0.0, 0.0]]  # ReLU(a ⊙ b): zero where signs disagree
    assert fuse(a, b, "concat").tolist() == [[1.0, 0.0, 3.0, 2.0, 4.0, 0.0]]  # ReLU([a, b])
    assert fuse(a, b, "add").tolist() == [[3.0, 2.0, 2.0]]
    assert fuse(a, b, "diff").tolist() == [[0.0, 0.0, 4.0]]  # ReLU(a − b): not antisymmetric
    assert fuse(b, a, "diff").tolist() == [[1.0, 6.0, 0.0]]
    with pytest.raises(ValueError, match="fusion"):
        fuse(a, b, "max")


@pytest.mark.parametrize("fusion", ["mult", "concat", "add", "diff"])
def test_pairs_go_through_one_shared_trunk(fusion):
    torch.manual_seed(0)
    model = build_backbone("siamese", trunk="resnet18", fusion=fusion).eval()
    pairs = torch.rand(3, 2, 3, 32, 32)
    fused = model(pairs)
    assert fused.shape == (3, model.feature_dim)
    assert model.feature_dim == (1024 if fusion == "concat" else 512)
    with torch.no_grad():
        first, second = model.trunk(pairs[:, 0]), model.trunk(pairs[:, 1])
    assert torch.allclose(fused, fuse(first, second, fusion), atol=1e-5)
    assert torch.allclose(model(pairs[:, 0]), first)  # single images: trunk features


def test_trunk_state_dict_loads_into_torchvision():
    model = build_backbone("siamese", trunk="resnet18")
    reference = torchvision.models.resnet18(weights=None)
    missing, unexpected = reference.load_state_dict(model.trunk.state_dict(), strict=False)
    assert set(missing) == {"fc.weight", "fc.bias"} and not unexpected
