"""Action recognition transfer of chapter 5: frozen conv features + 3 FC layers, and fine-tuning.

Table 5.1 reports both: "we freeze the weights of the convolutional layers and train three
randomly initialized fully-connected layers" (UCF101 column) and "we fine-tune the whole
network" (HMDB51 column). Clips are taken at speed 2 ("for transfer learning experiments, we
skip three frames corresponding to transformation speed 2", sec. 5.3) and a video's prediction
is the class probability averaged over its evenly spread clips.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from transformrec.backbones.base import TappedBackbone
from transformrec.data.item_seeding import item_seed
from transformrec.eval.feature_mlp import standardize, train_feature_classifier, video_accuracy
from transformrec.eval.finetune import _Classifier, fit_classifier, freeze_modules, shuffled_loader
from transformrec.eval.fitting import CrossEntropyUpdate, epochs_of
from transformrec.eval.registry import register_evaluation
from transformrec.eval.video_features import spread_clip_indices, video_clip_features
from transformrec.functional.frame_samplers import sample_speed
from transformrec.runtime.schedule import build_cosine_schedule


@register_evaluation("video_action", run_inputs=("device", "seed"))
def frozen_action_classification(
    backbone: TappedBackbone,
    train_set,
    test_set,
    tap: str = "conv5",
    grid: Sequence[int] = (2, 2, 2),
    train_clips: int = 4,
    test_clips: int = 5,
    speed: int = 2,
    epochs: int = 50,
    lr: float = 1e-3,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> dict[str, Any]:
    """Table 5.1, frozen column: 3 FC layers on the frozen ``tap`` of the backbone.

    The tap is average-pooled to ``grid`` (T×H×W) and flattened; features are standardized with
    the training statistics. Returns video-level and clip-level train/test accuracy.
    """
    train_features = video_clip_features(backbone, train_set, tap, train_clips, speed, grid, device=device)
    test_features = video_clip_features(backbone, test_set, tap, test_clips, speed, grid, device=device)
    train_features, test_features = standardize(train_features, test_features)
    train_labels, test_labels = train_set.labels, test_set.labels
    model = train_feature_classifier(
        train_features.reshape(-1, train_features.shape[-1]),
        train_labels.repeat_interleave(train_clips),
        train_set.num_classes,
        epochs=epochs,
        lr=lr,
        seed=seed,
    )
    train_acc, _ = video_accuracy(model, train_features, train_labels)
    test_acc, test_clip_acc = video_accuracy(model, test_features, test_labels)
    return {
        "train_acc": train_acc,
        "test_acc": test_acc,
        "test_clip_acc": test_clip_acc,
        "settings": {
            "tap": tap,
            "grid": list(grid),
            "speed": speed,
            "epochs": epochs,
            "feature_dim": test_features.shape[-1],
        },
    }


class _RandomSpeedClips(Dataset):
    """One random speed-κ clip per video, redrawn every epoch from ``(seed, epoch, index)``."""

    def __init__(self, videos, speed: int, seed: int) -> None:
        self.videos, self.speed, self.seed, self.epoch = videos, speed, seed, 0

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int):
        generator = torch.Generator().manual_seed(item_seed(self.seed + 7919 * self.epoch, "train", index))
        indices, _ = sample_speed(self.videos.num_frames[index], self.speed, generator, self.videos.clip_length)
        clip = self.videos.clip(index, indices)
        if torch.rand(1, generator=generator) < 0.5:  # random horizontal flip of the whole clip
            clip = clip.flip(-1)
        return clip, int(self.videos.labels[index])


@torch.no_grad()
def _video_predictions(model, videos, clips: int, speed: int, device) -> tuple[float, float]:
    model.eval()
    correct_videos = correct_clips = 0
    for index in range(len(videos)):
        batch = videos.clips(index, spread_clip_indices(videos.num_frames[index], clips, speed))
        probabilities = model(batch.to(device)).softmax(-1).cpu()
        label = int(videos.labels[index])
        correct_videos += int(probabilities.mean(0).argmax() == label)
        correct_clips += int((probabilities.argmax(-1) == label).sum())
    return correct_videos / len(videos), correct_clips / (len(videos) * clips)


@register_evaluation("video_finetune", run_inputs=("device", "seed", "progress"))
def finetune_action_classification(
    backbone: TappedBackbone,
    train_set,
    test_set,
    epochs: int = 50,
    lr: float = 5e-5,
    weight_decay: float = 1e-4,
    batch_size: int = 8,
    speed: int = 2,
    test_clips: int = 5,
    freeze: Sequence[str] = (),
    device: str | torch.device = "cpu",
    seed: int = 0,
    num_workers: int = 0,
    return_backbone: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Table 5.1, fine-tuned column: the whole network plus a new linear head on random clips.

    AdamW (0.9, 0.99), lr 5e-5 decayed ×1e-3 by cosine annealing (sec. 5.2.3). The caller's
    backbone is copied, never modified; ``return_backbone`` adds the trained copy to the result
    (under ``"backbone"``), e.g. to use a supervised network as the "action labels" baseline.
    """
    device = torch.device(device)
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        model = _Classifier(copy.deepcopy(backbone), train_set.num_classes).to(device)
        frozen = freeze_modules(model.backbone, freeze)
        clips = _RandomSpeedClips(train_set, speed, seed)
        loader = shuffled_loader(clips, batch_size, seed, num_workers)
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay)
        scheduler = build_cosine_schedule(optimizer, max(1, epochs * len(loader)), lr, lr * 1e-3)
        batches = epochs_of(loader, lambda epoch: setattr(clips, "epoch", epoch))
        step = CrossEntropyUpdate(model, optimizer)
        epoch_loss = fit_classifier(model, batches, epochs, step, scheduler, device, frozen=frozen, progress=progress)
        train_acc, _ = _video_predictions(model, train_set, test_clips, speed, device)
        test_acc, test_clip_acc = _video_predictions(model, test_set, test_clips, speed, device)
    result = {
        "train_acc": train_acc,
        "test_acc": test_acc,
        "test_clip_acc": test_clip_acc,
        "epoch_loss": epoch_loss,
        "settings": {"epochs": epochs, "lr": lr, "speed": speed, "test_clips": test_clips},
    }
    if return_backbone:
        result["backbone"] = model.backbone
    return result
