"""The FID Inception network: the weights and layer quirks every published FID is computed with.

FID was defined with TensorFlow's Inception graph of 2015-12-05, not with torchvision's ImageNet
Inception-v3: its weights differ, it has 1008 output classes, its average pools leave padded zeros
out of the mean, and its last block max-pools. Scores from torchvision's network are therefore not
comparable with published ones. This module rebuilds the TF network on torchvision's blocks, as
pytorch-fid (Apache-2.0) does, and loads that project's port of the TF weights, the file
torch-fidelity and torchmetrics also use. Why that file: it is the reference port the published
PyTorch FIDs come from, and its name carries the first 8 hex digits of its SHA-256, which
``torch.hub`` checks on download (``check_hash``), so a corrupted or substituted file is refused.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from torch import nn
from torchvision.models import inception as tv_inception

from transformrec.errors import CheckpointError

FID_WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"
)
"""pytorch-fid's port of TF's 2015-12-05 Inception graph; ``6726825d`` is its SHA-256 prefix."""


def _pool_without_padding(x: torch.Tensor) -> torch.Tensor:
    """TF's 3×3 average pool: padded zeros are not counted in the mean (torchvision's are)."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(tv_inception.InceptionA):
    """InceptionA with TF's average pool."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = self.branch_pool(_pool_without_padding(x))
        return torch.cat([self.branch1x1(x), branch5x5, branch3x3dbl, branch_pool], 1)


class FIDInceptionC(tv_inception.InceptionC):
    """InceptionC with TF's average pool."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        branch7x7dbl = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            branch7x7dbl = layer(branch7x7dbl)
        branch_pool = self.branch_pool(_pool_without_padding(x))
        return torch.cat([self.branch1x1(x), branch7x7, branch7x7dbl, branch_pool], 1)


class FIDInceptionE(tv_inception.InceptionE):
    """InceptionE with TF's pooling: an average pool without padding in the first block
    (``max_pool=False``), a max pool in the last (the TF graph's, unlike the paper's)."""

    def __init__(self, in_channels: int, max_pool: bool = False) -> None:
        super().__init__(in_channels)
        self.max_pool = max_pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = torch.cat([self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3)], 1)
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = torch.cat([self.branch3x3dbl_3a(branch3x3dbl), self.branch3x3dbl_3b(branch3x3dbl)], 1)
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool else _pool_without_padding(x)
        return torch.cat([self.branch1x1(x), branch3x3, branch3x3dbl, self.branch_pool(pooled)], 1)


def fid_inception_v3() -> tv_inception.Inception3:
    """The FID Inception architecture (1008 classes, no auxiliary head), with random weights."""
    model = tv_inception.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    model.Mixed_5b = FIDInceptionA(192, pool_features=32)
    model.Mixed_5c = FIDInceptionA(256, pool_features=64)
    model.Mixed_5d = FIDInceptionA(288, pool_features=64)
    model.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    model.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    model.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    model.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    model.Mixed_7b = FIDInceptionE(1280)
    model.Mixed_7c = FIDInceptionE(2048, max_pool=True)
    return model


def fid_inception_weights(path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """The FID weights: from ``path`` (a local copy of the file of :data:`FID_WEIGHTS_URL`), or
    downloaded once into torch's hub cache with its SHA-256 prefix checked."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(
                f"{path}: no such file (the FID Inception weights, {FID_WEIGHTS_URL.rsplit('/', 1)[1]})"
            )
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # unreadable, truncated, a pickle with code: never a traceback
            raise CheckpointError(f"{path}: not a weights file torch can read ({type(error).__name__})") from None
    try:
        return torch.hub.load_state_dict_from_url(FID_WEIGHTS_URL, map_location="cpu", check_hash=True, progress=True)
    except Exception as error:  # offline, a proxy, a changed file whose hash no longer matches
        raise CheckpointError(
            f"could not download the FID Inception weights from {FID_WEIGHTS_URL} ({type(error).__name__}: "
            f"{error}); download the file by hand and set eval.inception_weights to it, or use "
            "eval.extractor: classifier (offline)"
        ) from None


def fid_inception_extractor(weights: str | Path | None = None, device: str = "cpu"):
    """A FID / IS feature extractor (``transformrec.eval.fid``): the 2048-d pool features and the
    1008 logits of the FID Inception network, for generator images in [−1, 1] (grey images are
    repeated to 3 channels, every image resized bilinearly to 299 × 299 as pytorch-fid does)."""
    model = fid_inception_v3()
    state = fid_inception_weights(weights)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as error:
        source = weights or FID_WEIGHTS_URL
        raise CheckpointError(f"{source}: not the FID Inception weights ({str(error).splitlines()[0]})") from None
    model.eval().to(device)
    return _extractor(model, device)


def _extractor(model: nn.Module, device: str):
    features: list[torch.Tensor] = []
    model.avgpool.register_forward_hook(lambda _m, _i, out: features.append(out.flatten(1)))

    @torch.no_grad()
    def extract(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = images.to(device).clamp(-1, 1).expand(-1, 3, -1, -1)  # [−1, 1] is the TF graph's input range
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        features.clear()
        logits = model(x)
        return features[0].cpu(), logits.cpu()

    return extract
