"""The FID Inception network: TF's pooling quirks, 1008 classes, weights checked, errors in one line."""

import pytest
import torch
import torch.nn.functional as F
from torchvision.models import inception as tv_inception

from transformrec.errors import CheckpointError
from transformrec.eval import fid_inception
from transformrec.eval.fid_inception import FIDInceptionA, FIDInceptionE, fid_inception_extractor, fid_inception_v3


def test_average_pools_leave_padding_out_of_the_mean_as_tensorflow_does():
    """On a constant input TF's pool keeps the constant at the borders; torchvision's pools zeros in."""
    torch.manual_seed(0)
    ours = FIDInceptionA(4, pool_features=2).eval()
    theirs = tv_inception.InceptionA(4, pool_features=2).eval()
    theirs.load_state_dict(ours.state_dict())
    x = torch.ones(1, 4, 5, 5)
    pooled = ours.branch_pool(torch.ones(1, 4, 5, 5))  # what a pool without padding passes on
    ours_out, theirs_out = ours(x), theirs(x)
    assert torch.allclose(ours_out[:, -2:], pooled)  # the pool branch: no border effect
    assert not torch.allclose(theirs_out[:, -2:, 0, 0], pooled[:, :, 0, 0])  # torchvision's corner is diluted
    assert torch.allclose(ours_out[:, :-2], theirs_out[:, :-2])  # the other branches are the same


def test_the_last_block_max_pools():
    torch.manual_seed(0)
    block = FIDInceptionE(3, max_pool=True).eval()
    x = torch.randn(1, 3, 6, 6)
    expected = block.branch_pool(F.max_pool2d(x, kernel_size=3, stride=1, padding=1))
    assert torch.allclose(block(x)[:, -192:], expected)


def test_the_network_has_the_fid_layout_and_outputs():
    model = fid_inception_v3()
    assert model.fc.out_features == 1008 and model.AuxLogits is None
    assert isinstance(model.Mixed_7c, FIDInceptionE) and model.Mixed_7c.max_pool and not model.Mixed_7b.max_pool


def test_extractor_from_a_local_file(tmp_path):
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(fid_inception_v3().state_dict(), path)
    features, logits = fid_inception_extractor(path)(torch.rand(2, 1, 32, 32) * 2 - 1)
    assert features.shape == (2, 2048) and logits.shape == (2, 1008)
    assert (features >= 0).all()  # after ReLU and an average pool


def test_torchvisions_imagenet_weights_are_refused_in_one_line(tmp_path):
    path = tmp_path / "inception_v3_google.pth"
    torch.save(tv_inception.inception_v3(weights=None, aux_logits=True, init_weights=False).state_dict(), path)
    with pytest.raises(CheckpointError, match="not the FID Inception weights") as caught:
        fid_inception_extractor(path)
    assert "\n" not in str(caught.value)


def test_a_missing_file_and_a_failed_download_name_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(CheckpointError, match="no such file"):
        fid_inception_extractor(tmp_path / "missing.pth")

    def offline(*args, **kwargs):
        assert kwargs["check_hash"] is True  # the file's SHA-256 prefix is checked on download
        raise OSError("network unreachable")

    monkeypatch.setattr(fid_inception.torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(CheckpointError, match="eval.inception_weights") as caught:
        fid_inception_extractor()
    assert fid_inception.FID_WEIGHTS_URL in str(caught.value)
