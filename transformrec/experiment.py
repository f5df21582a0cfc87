"""Running an experiment config end to end: pretrain, evaluate against a random-init baseline.

These are the functions behind ``transformrec pretrain``, ``eval`` and ``demo``; they are also
the shortest Python route from a YAML file to numbers.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from transformrec.backbones.base import TappedBackbone
from transformrec.config.build import build_backbone_for, build_data, build_trainer
from transformrec.config.loading import dump_config
from transformrec.config.schema import ExperimentConfig
from transformrec.errors import CheckpointError, CheckpointMismatchError, ConfigError
from transformrec.eval.pose_metrics import POSE_ERRORS, format_pose_errors
from transformrec.eval.registry import EVALUATIONS, get_evaluation
from transformrec.runtime.distributed import resolve_device
from transformrec.training.checkpoint import load_checkpoint, state_dict_mismatch
from transformrec.training.engine import CHECKPOINT_NAME
from transformrec.training.trainer import BACKBONE_NAME

log = logging.getLogger(__name__)


def pretrain(
    config: ExperimentConfig, resume: bool = False, progress: bool = True, overwrite: bool = False
) -> dict[str, Any]:
    """Train the pretext task of ``config``; returns the trainer's JSON summary.

    A run already in ``config.output_dir`` is continued with ``resume``, replaced with ``overwrite``,
    and otherwise refused (:class:`~transformrec.errors.RunExistsError`).
    """
    trainer = build_trainer(config, resume=resume, progress=progress, overwrite=overwrite)

    def record_config() -> None:  # once the run owns its folder: a refused run leaves the old config
        if trainer.context.is_main:  # under torchrun only rank 0 writes files
            dump_config(config, Path(config.output_dir) / "config.yaml")

    summary = trainer.fit(before_training=record_config)
    if trainer.context.is_main and config.train.tensorboard:
        log_transform_picture(config, int(summary.get("steps", 0)))
    return summary


def log_transform_picture(config: ExperimentConfig, step: int, num_images: int = 4) -> Path | None:
    """The run's transforms on a few of its images (``transformrec show``'s figure, learned transforms
    as trained) as ``transforms.png`` in the run folder and an image in its TensorBoard run, at the
    last step. A picture must never fail a finished run: a problem is logged and skipped."""
    from transformrec.transform_grid import render_transform_grid

    folder = Path(config.output_dir)
    checkpoint = folder / CHECKPOINT_NAME
    try:
        from PIL import Image
        from torch.utils.tensorboard import SummaryWriter

        figure = render_transform_grid(
            config, folder / "transforms.png", num_images, checkpoint=checkpoint if checkpoint.exists() else None
        )
        with Image.open(figure.path) as picture, SummaryWriter(str(folder / "tensorboard")) as writer:
            writer.add_image("transforms", np.asarray(picture.convert("RGB")), step, dataformats="HWC")
        return figure.path
    except Exception as error:  # noqa: BLE001 - a picture is a courtesy, the run is done
        log.warning("could not draw the transforms into TensorBoard: %s: %s", type(error).__name__, error)
        return None


def load_backbone(config: ExperimentConfig, weights: str | Path | None, dataset) -> TappedBackbone:
    """The config's backbone, with ``weights`` loaded (``weights_only=True``) or randomly initialised."""
    backbone = build_backbone_for(config.backbone, dataset, config.seed)
    if weights is not None:
        state = load_checkpoint(weights)  # unreadable or not a checkpoint: its own one-line error
        if not isinstance(state, dict):
            raise CheckpointError(f"{weights}: not backbone weights (a {type(state).__name__}, not a state_dict)")
        try:
            backbone.load_state_dict(state)
        except RuntimeError as error:  # another width or architecture: say so in one line
            raise CheckpointMismatchError(
                f"{weights}: does not fit backbone {config.backbone.name} as configured ({state_dict_mismatch(error)})"
            ) from None
    return backbone


def tap_accuracies(outcome: Any, k: int | None = None) -> dict[str, float]:
    """Test accuracy per tap of one protocol result: the probe's number, or the kNN's at ``k``."""
    per_tap = outcome.get("per_tap") if isinstance(outcome, dict) else None
    accuracies = {}
    for tap, values in (per_tap or {}).items():
        accuracy = values.get("test_acc") if isinstance(values, dict) else None
        if isinstance(accuracy, dict) and k is not None:  # kNN: one accuracy per k
            accuracy = accuracy.get(str(k))
        if isinstance(accuracy, float):
            accuracies[tap] = accuracy
    return accuracies


def outcome_line(outcome: dict[str, Any], k: int | None = None) -> str:
    """One protocol result as the line ``transformrec eval`` prints: pose errors (mm) for a pose
    transfer, else the best test accuracy and the accuracy per tap (a kNN's at ``k``).

    Why here: the command line prints every protocol's result the same way without knowing any
    protocol's result keys."""
    test = outcome.get("test")
    if isinstance(test, dict) and all(name in test for name in POSE_ERRORS):  # 3D pose (ch. 6)
        return format_pose_errors(test)
    cells = "  ".join(f"{tap}={accuracy:.3f}" for tap, accuracy in tap_accuracies(outcome, k).items())
    best = outcome.get("best_test_acc", outcome.get("test_acc"))
    best_text = f"{best:.4f}" if isinstance(best, float) else str(best)
    return f"best test accuracy {best_text}  {cells}"


def accuracy_gain(results: dict[str, Any]) -> dict[str, Any] | None:
    """Pretrained minus random-init accuracy in points, per tap and between the best taps (for a kNN,
    at the pretrained backbone's best k), or None without both results per tap."""
    pretrained_outcome, random_outcome = results.get("pretrained"), results.get("random")
    if not isinstance(pretrained_outcome, dict) or not isinstance(random_outcome, dict):
        return None
    k = pretrained_outcome.get("best_k")
    pretrained, random = tap_accuracies(pretrained_outcome, k), tap_accuracies(random_outcome, k)
    if not pretrained or pretrained.keys() != random.keys():
        return None
    best_p, best_r = max(pretrained, key=pretrained.get), max(random, key=random.get)
    return {
        "points_per_tap": {tap: 100 * (pretrained[tap] - random[tap]) for tap in pretrained},
        "best": {"points": 100 * (pretrained[best_p] - random[best_r]), "pretrained_tap": best_p, "random_tap": best_r},
        "pretrained": pretrained,
        "random": random,
        **({"k": k} if k is not None else {}),
    }


def evaluate(
    config: ExperimentConfig,
    weights: str | Path | None = None,
    random_baseline: bool | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run ``config.evaluation`` on the pretrained backbone and, optionally, on a random init.

    ``weights`` defaults to ``<output_dir>/backbone.pt``; results are written to
    ``<output_dir>/eval_<protocol>.json`` and returned as ``{"pretrained": …, "random": …}``.
    ``progress`` shows the protocol's progress bars where it has them.
    """
    spec = config.evaluation
    weights = Path(weights) if weights is not None else Path(config.output_dir) / BACKBONE_NAME
    if not weights.is_file():
        raise FileNotFoundError(f"no pretrained backbone at {weights}: run `transformrec pretrain` first")
    train_set = build_data(spec.train_data, "evaluation.train_data")
    test_set = build_data(spec.test_data, "evaluation.test_data")
    protocol = get_evaluation(spec.protocol)
    options = dict(spec.options)
    accepted = EVALUATIONS.run_inputs(spec.protocol)
    if "labels_per_class" in accepted:
        options.setdefault("labels_per_class", spec.labels_per_class)
    if spec.bilevel is not None:
        options["bilevel"] = spec.bilevel.model_dump()
    defaults = (("device", str(resolve_device(config.device))), ("seed", config.seed), ("progress", progress))
    for key, value in defaults:
        if key in accepted:
            options.setdefault(key, value)
    recorded = {key: value for key, value in options.items() if key != "progress"}
    results: dict[str, Any] = {"protocol": spec.protocol, "weights": str(weights), "options": recorded}
    candidates = {"pretrained": weights}
    if spec.random_baseline if random_baseline is None else random_baseline:
        candidates["random"] = None
    for label, candidate in candidates.items():
        log.info("evaluating %s backbone with %s", label, spec.protocol)
        backbone = load_backbone(config, candidate, train_set)
        saving = {}
        if "save_to" in accepted:  # the trained probes / fine-tuned network, beside the JSON
            saving["save_to"] = Path(config.output_dir) / f"eval_{spec.protocol}_{label}.pt"
        try:
            results[label] = protocol(backbone, train_set, test_set, **options, **saving)
        except ValueError as error:  # e.g. labels_per_class larger than a class of the data
            raise ConfigError(f"evaluation ({spec.protocol}): {error}") from None
    gain = accuracy_gain(results)
    if gain is not None:
        results["gain"] = gain
    out = Path(config.output_dir) / f"eval_{spec.protocol}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    if config.train.tensorboard:
        log_evaluation(Path(config.output_dir), spec.protocol, results)
    results["path"] = str(out)
    return results


def log_evaluation(output_dir: Path, protocol: str, results: dict[str, Any]) -> Path | None:
    """Mirror an evaluation's accuracy per tap (pretrained, random init, gain in points) to TensorBoard,
    as the run ``tensorboard/eval_<protocol>`` at the step pre-training ended, so the evaluation sits
    beside the training curves it explains. ``None`` when TensorBoard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # pragma: no cover - tensorboard is a declared dependency
        return None
    summary = output_dir / "summary.json"
    try:
        step = int(json.loads(summary.read_text()).get("steps", 0)) if summary.is_file() else 0
    except (ValueError, OSError, AttributeError):
        step = 0
    k = results.get("pretrained", {}).get("best_k") if isinstance(results.get("pretrained"), dict) else None
    folder = output_dir / "tensorboard" / f"eval_{protocol}"
    with SummaryWriter(str(folder)) as writer:
        for label in ("pretrained", "random"):
            for tap, accuracy in tap_accuracies(results.get(label), k).items():
                writer.add_scalar(f"eval/{protocol}/{label}/{tap}", accuracy, step)
        for tap, points in (results.get("gain") or {}).get("points_per_tap", {}).items():
            writer.add_scalar(f"eval/{protocol}/gain_points/{tap}", points, step)
    return folder
