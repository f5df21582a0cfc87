"""A new modality plugs in through its own data-set adapter, without the Trainer knowing its name."""

import ast
from pathlib import Path

import pytest
import torch
from conftest import TinyImages, TinyNet
from torch.utils.data import Dataset

from transformrec.training import Trainer
from transformrec.transforms import Rotation, Transform, TransformSet

TRAINER_SOURCE = Path(__file__).resolve().parents[2] / "transformrec" / "training" / "trainer.py"


class _OrderedPairs(Dataset):
    """Item i: image i stacked with the next image in order (class ``forward``) and reversed (``backward``).

    Samples are ``2×2C×H×W`` (two classes, each two frames side by side in channels), chosen
    before any batch transform runs, as a temporal sampler would.
    """

    def __init__(self, images: TinyImages) -> None:
        self.images = images
        self.calls = 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        self.calls += 1
        first, second = self.images[index][0], self.images[(index + 1) % len(self.images)][0]
        forward = torch.cat([first, second])[:1]  # the toy backbone takes one channel: keep the first frame
        backward = torch.cat([second, first])[:1]
        return torch.stack([forward, backward]), {"order": torch.tensor([0, 1])}


class _FrameOrder(Transform):
    """A toy "frame order" modality: it picks and orders frames before decoding, via its adapter."""

    name = "frame_order"
    modality = "toy-frame-order"
    head = "order"
    adapted: list[Dataset] = []

    def variant_names(self):
        return ("forward", "backward")

    def adapt_data(self, data, transform_set, *, seed, augment):
        pairs = _OrderedPairs(data)
        self.adapted.append(pairs)
        return pairs

    def apply(self, batch, variant, generator=None):
        raise TypeError("frame order is chosen before decoding")


def test_a_toy_modality_trains_a_step_through_its_own_adapter(tmp_path):
    transform = _FrameOrder()
    quiet = {"device": "cpu", "progress": False, "tensorboard": False, "output_dir": tmp_path}
    trainer = Trainer(
        TransformSet([transform]), TinyNet(), TinyImages(n=32), epochs=1, batch_size=8, max_steps=1, **quiet
    )
    assert trainer.data is transform.adapted[-1] and trainer.prepared and trainer.augment is None
    before = [p.detach().clone() for p in trainer.model.parameters()]
    summary = trainer.fit()
    assert summary["steps"] == 1 and summary["heads"] == {"order": ["forward", "backward"]}
    assert trainer.data.calls == 8  # one batch of 8 items, each holding both classes
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=True))
    assert 0.0 <= summary["final_metrics"]["acc/order"] <= 1.0


def test_a_set_mixing_an_adapted_modality_with_batch_transforms_is_refused():
    with pytest.raises(ValueError, match="prepare their data in different ways"):
        TransformSet([_FrameOrder(), Rotation()]).data_path(TinyImages(n=4))


def test_the_trainer_names_no_modality_and_imports_no_chapter_module():
    source = TRAINER_SOURCE.read_text()
    code = _code_only(source)
    for word in ("video", "pair", "modality", "temporal", "multiview", "multi_view", "clips"):
        assert word not in code, word
    imported = {
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    assert not [m for m in imported if m.startswith("transformrec.data")], imported
    assert not [
        m for m in imported if m.startswith(("transformrec.transforms.temporal", "transformrec.transforms.multiview"))
    ]


def _code_only(source: str) -> str:
    """The trainer's code without docstrings and comments: names there are documentation, not branches."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            body[0].value.value = ""
    return ast.unparse(tree).lower()
