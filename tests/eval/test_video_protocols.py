"""Chapter-5 transfer protocols: retrieval against hand-computed hits, and the action, sync and
before/after tasks checked with oracle backbones (that see exactly what the task needs) and blind ones."""

import pytest
import torch
from scipy.stats import chisquare

from transformrec.backbones.base import TappedBackbone
from transformrec.data.video_folder import VideoFolder
from transformrec.data.video_io import write_video
from transformrec.eval.temporal_tasks import (
    MAX_OFFSET,
    _draw_sync,
    before_after,
    before_after_indices,
    sync_pair_indices,
    synchronization,
)
from transformrec.eval.video_action import finetune_action_classification, frozen_action_classification
from transformrec.eval.video_retrieval import retrieval_hit_rates, video_retrieval


def _binary_counter(length, size=32):
    bits = (torch.arange(length).view(-1, 1) >> torch.arange(8)) & 1
    columns = bits.repeat_interleave(size // 8, dim=1).to(torch.uint8) * 255
    return columns.view(length, 1, size, 1).expand(length, size, size, 3).contiguous()


class FrameNumbers(TappedBackbone):
    """Oracle for temporal tasks: reads the binary frame counter, so ``conv5`` is the frame numbers."""

    tap_names = ("conv5", "pool")
    feature_dim = 1

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(1))

    def forward_taps(self, x, taps):
        batch, _, length, _, width = x.shape
        bits = x[:, 0, :, x.shape[3] // 2, :].reshape(batch, length, 8, width // 8).mean(-1) > 0.5
        numbers = (bits.long() << torch.arange(8)).sum(-1).float() * self.scale
        out = {"conv5": numbers.view(batch, 1, length, 1, 1), "pool": numbers.mean(1, keepdim=True)}
        return {t: out[t] for t in taps}


class MeanBrightness(TappedBackbone):
    """Oracle for brightness-coded classes: the mean pixel value of the clip."""

    tap_names = ("conv5", "pool")
    feature_dim = 1

    def __init__(self, blind=False):
        super().__init__()
        self.blind = blind
        self.scale = torch.nn.Parameter(torch.ones(1))

    def forward_taps(self, x, taps):
        value = torch.zeros(x.shape[0], 1) if self.blind else x.mean(dim=(1, 2, 3, 4)).unsqueeze(1)
        out = {"conv5": (value * self.scale).view(-1, 1, 1, 1, 1), "pool": value * self.scale}
        return {t: out[t] for t in taps}


@pytest.fixture(scope="module")
def counters(tmp_path_factory):
    root = tmp_path_factory.mktemp("counters")
    for split, count in (("train", 6), ("test", 3)):
        for index in range(count):
            write_video(root / "only" / f"{split}_{index}.mp4", _binary_counter(48 + 4 * index), gop=8)
    return VideoFolder(root, split="train"), VideoFolder(root, split="test")


@pytest.fixture(scope="module")
def brightness(tmp_path_factory):
    root = tmp_path_factory.mktemp("brightness")
    generator = torch.Generator().manual_seed(0)
    for label, level in (("bright", 170), ("dark", 70)):
        for split, count in (("train", 6), ("test", 4)):
            for index in range(count):
                noise = torch.randint(-30, 31, (40, 16, 16, 3), generator=generator)
                write_video(root / label / f"{split}_{index}.mp4", (level + noise).to(torch.uint8), gop=8)
    return VideoFolder(root, split="train"), VideoFolder(root, split="test")


def test_retrieval_hit_rates_match_a_hand_computed_case():
    reference = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    queries = torch.tensor([[1.0, 0.1], [0.0, 1.0]])
    # query 0 (class 1): cosine order ref0, ref2, ref1 -> first hit at rank 3; query 1 (class 1): hit at rank 1.
    rates = retrieval_hit_rates(reference, torch.tensor([0, 1, 2]), queries, torch.tensor([1, 1]), ks=(1, 2, 3))
    assert rates == {1: 0.5, 2: 0.5, 3: 1.0}


def test_sync_pairs_and_before_after_inputs_follow_their_definitions():
    first, second = sync_pair_indices(10, -4)
    assert first.tolist() == list(range(10, 26)) and second.tolist() == list(range(6, 22))
    assert before_after_indices(3, 20).tolist() == list(range(3, 11)) + list(range(20, 28))
    assert before_after_indices(3, 20, after=True).tolist() == list(range(20, 28)) + list(range(3, 11))
    with pytest.raises(ValueError, match="overlap"):
        before_after_indices(3, 8)


def test_sync_offsets_are_uniform_over_minus_six_to_six_and_stay_inside_the_video():
    generator = torch.Generator().manual_seed(0)
    labels = []
    for _ in range(2600):
        first, second, label = _draw_sync(30, generator)
        assert min(int(first.min()), int(second.min())) >= 0 and max(int(first.max()), int(second.max())) < 30
        assert int(second[0] - first[0]) == label - MAX_OFFSET
        labels.append(label)
    counts = torch.bincount(torch.tensor(labels), minlength=13)
    assert len(counts) == 13 and chisquare(counts.numpy()).pvalue > 1e-3


def test_sync_and_before_after_are_solved_by_an_oracle_and_not_by_a_blind_network(counters):
    train, test = counters
    options = dict(pairs_per_video=12, epochs=150, grid=(16, 1, 1))
    sync = synchronization(FrameNumbers(), train, test, **options)
    assert sync["chance"] == 1 / 13 and sync["test_acc"] > 0.6  # 13 ordered classes from 72 pairs
    # Table 5.3's second number: mean |predicted − true| offset in frames. A blind network can only
    # guess; any constant guess over offsets uniform on −6…6 errs by at least 42/13 ≈ 3.2 frames.
    assert sync["test_mae"] < 1.0
    assert synchronization(MeanBrightness(blind=True), train, test, **options)["test_mae"] > 2.0
    assert before_after(FrameNumbers(), train, test, **options)["test_acc"] > 0.9
    blind = before_after(MeanBrightness(blind=True), train, test, **options)
    assert abs(blind["test_acc"] - 0.5) < 0.2 and blind["chance"] == 0.5


def test_frozen_action_classification_and_retrieval_with_an_oracle_and_a_blind_network(brightness):
    train, test = brightness
    oracle = frozen_action_classification(MeanBrightness(), train, test, tap="pool", epochs=40)
    assert oracle["test_acc"] == 1.0
    blind = frozen_action_classification(MeanBrightness(blind=True), train, test, tap="pool", epochs=40)
    assert blind["test_acc"] == 0.5  # constant predictions on a balanced test set
    retrieval = video_retrieval(MeanBrightness(), train, test, crops=3, ks=(1, 5))
    assert retrieval["top_k"] == {"1": 1.0, "5": 1.0}


def test_fine_tuning_learns_brightness_classes_and_leaves_the_backbone_untouched(brightness):
    from transformrec.backbones import build_backbone

    train, test = brightness
    torch.manual_seed(0)
    backbone = build_backbone("c3d_small", width=0.125)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    result = finetune_action_classification(backbone, train, test, epochs=4, lr=5e-3, batch_size=4, test_clips=1)
    assert result["test_acc"] >= 0.75 and result["epoch_loss"][-1] < result["epoch_loss"][0]
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items())
