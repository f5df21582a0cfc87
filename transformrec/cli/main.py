"""Command line: ``transformrec {pretrain,eval,demo,show,audit,gan,make-videos,make-multiview,list} …``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from transformrec.errors import TransformrecError

# Only the standard library (and the project's errors) at module level: ``--help`` and ``list``
# must not pay for torch. What a command needs is imported when it runs.

HELP_FORMAT = {"formatter_class": argparse.ArgumentDefaultsHelpFormatter}


def _at_least(minimum: int):
    """An argparse type: an integer ``>= minimum``, refused by argparse (one line, exit 2) otherwise,
    before any data is read or any model built."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


POSITIVE = _at_least(1)
PICTURE_FORMATS = ("png", "jpg", "jpeg", "pdf", "svg", "tif", "tiff", "webp")


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="YAML experiment config (see configs/)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, e.g. --set train.epochs=5 (repeatable)",
    )
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE|FILE.py",
        help="import a Python module (found from the working directory) or a .py file first, so the components "
        "it registers can be named in the config (repeatable)",
    )


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resume", action="store_true", help="continue from <output_dir>/checkpoint.pt")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace a run already in output_dir (otherwise it is refused)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser (also read by the documentation site's CLI reference)."""
    parser = argparse.ArgumentParser(prog="transformrec", description=__doc__, **HELP_FORMAT)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level; show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", required=True)

    pretrain = commands.add_parser("pretrain", help="train the pretext task of a config", **HELP_FORMAT)
    _add_config_arguments(pretrain)
    _add_run_arguments(pretrain)

    evaluate = commands.add_parser(
        "eval", help="evaluate a pretrained backbone (and a random-init baseline)", **HELP_FORMAT
    )
    _add_config_arguments(evaluate)
    evaluate.add_argument("--weights", help="backbone weights (default: <output_dir>/backbone.pt)")
    evaluate.add_argument("--no-baseline", action="store_true", help="skip the random-init baseline")

    demo = commands.add_parser(
        "demo",
        help="pretrain (with the online monitor on the evaluation's test data unless the config sets one), "
        "then evaluate against a random-init baseline",
        **HELP_FORMAT,
    )
    _add_config_arguments(demo)
    _add_run_arguments(demo)

    show = commands.add_parser(
        "show", help="write a labelled figure of every transform applied to real data (any modality)", **HELP_FORMAT
    )
    _add_config_arguments(show)
    show.add_argument("--out", default=None, help="PNG path (default: <output_dir>/transforms.png)")
    show.add_argument("--num-images", type=POSITIVE, default=6, help="rows of the figure")
    _add_checkpoint_argument(show)

    audit = commands.add_parser(
        "audit",
        help="can local patches recognise each transform, and which transforms are confusable? (sec. 4.3)",
        **HELP_FORMAT,
    )
    _add_config_arguments(audit)
    audit.add_argument("--patch-size", type=POSITIVE, default=None, help="local patch side (default: image side / 4)")
    audit.add_argument("--num-images", type=_at_least(4), default=512, help="images of the config's data to audit on")
    audit.add_argument("--steps", type=POSITIVE, default=1000, help="training steps of each probe classifier")
    audit.add_argument("--out", default=None, help="JSON report path (default: <output_dir>/audit.json)")
    _add_checkpoint_argument(audit)

    gan = commands.add_parser(
        "gan", help="train a (distribution-filtering) GAN of chapter 7 with sample grids and FID / IS", **HELP_FORMAT
    )
    _add_config_arguments(gan)
    _add_run_arguments(gan)

    videos = commands.add_parser(
        "make-videos", help="write procedural motion videos (H.264 mp4) for chapter 5", **HELP_FORMAT
    )
    videos.add_argument("root", help="output folder; videos go to <root>/<motion>/<split>_<index>.mp4")
    videos.add_argument("--num", type=POSITIVE, default=500, help="videos per split")
    videos.add_argument("--splits", nargs="+", default=["train", "test"])
    videos.add_argument("--frames", type=POSITIVE, default=128, help="frames per video (121 fit speed 3)")
    videos.add_argument("--size", type=_at_least(8), default=64, help="frame side in pixels (even)")
    videos.add_argument("--seed", type=int, default=0)
    videos.add_argument(
        "--sprites", choices=("fashion_mnist", "shapes"), default="fashion_mnist", help="moving objects"
    )

    multiview = commands.add_parser(
        "make-multiview",
        help="write the procedural multi-view studio (17-joint figure, 4 cameras) for chapter 6",
        **HELP_FORMAT,
    )
    multiview.add_argument("root", help="output folder; frames go to <root>/<subject>/<action>/cam<k>/<frame>.png")
    multiview.add_argument(
        "--subjects", nargs="+", default=None, help="subjects (default: S1 S5 S6 S7 S8 for training, S9 S11 for test)"
    )
    multiview.add_argument("--actions", nargs="+", default=None, help="default: walk wave squat jump turn")
    multiview.add_argument("--frames", type=POSITIVE, default=160, help="frames per sequence (at 25 fps)")
    multiview.add_argument("--size", type=int, default=64, help="frame side in pixels")
    multiview.add_argument("--seed", type=int, default=0)
    multiview.add_argument(
        "--repetitions",
        type=POSITIVE,
        default=1,
        help="sequences per subject and action (start yaw, speed and light differ)",
    )

    export = commands.add_parser(
        "export",
        help="write a pretraining run's backbone for torchvision, timm or this package, with a JSON sidecar",
        **HELP_FORMAT,
    )
    export.add_argument("run", help="the run's output folder (holds backbone.pt and backbone.json)")
    export.add_argument(
        "--format",
        dest="export_format",
        choices=("torchvision", "timm", "native"),
        default="torchvision",
        help="torchvision / timm: ResNet weights under their module names; native: any backbone, "
        "rebuilt with transformrec.backbones.export.load_exported",
    )
    export.add_argument("--out", default=None, help="folder for backbone_<format>.pt/.json (default: the run)")

    commands.add_parser("list", help="list registered transforms, backbones, datasets and evaluations")
    return parser


def _with_demo_monitor(config):
    """The demo shows learning as it happens: unless the config sets a monitor, an image-classification
    evaluation's test data is monitored every 100 steps (k = 20, fewer on a small test set)."""
    if config.monitor is not None or config.evaluation.protocol not in ("linear_probe", "knn"):
        return config
    from transformrec.config.build import build_data
    from transformrec.config.schema import MonitorConfig

    size = len(build_data(config.evaluation.test_data, "evaluation.test_data"))
    k = min(20, size // 4)
    if k < 1:
        return config
    return config.model_copy(update={"monitor": MonitorConfig(data=config.evaluation.test_data, every=100, k=k)})


def _print_monitor(summary: dict) -> None:
    """The online monitor's curve, one line per measured quantity: accuracy % at each measured step."""
    history = summary.get("monitor") or []
    if not history:
        return
    print("online monitor (accuracy % on the monitor set, by step):")
    for key in (k for k in history[0] if k != "step"):
        curve = ", ".join(f"{row['step']}: {100 * row[key]:.1f}" for row in history if key in row)
        print(f"  {key.removeprefix('monitor/'):>16}  {curve}")


def _export(args: argparse.Namespace) -> None:
    from transformrec.backbones.export import export_run

    try:
        weights = export_run(args.run, args.export_format, args.out)
    except ValueError as error:  # a backbone the format cannot hold: one line, like every CLI error
        raise TransformrecError(str(error)) from None
    card = json.loads(weights.with_suffix(".json").read_text())
    print(f"wrote {weights} and {weights.with_suffix('.json').name}\nload it with: {card['load']}")


def _make_videos(args: argparse.Namespace) -> None:
    from transformrec.data.procedural_video import load_sprites, write_procedural_videos

    sprites = load_sprites() if args.sprites == "fashion_mnist" else None
    if args.sprites == "fashion_mnist" and sprites is None:
        print("Fashion-MNIST not found; using procedural shapes as sprites", file=sys.stderr)
    if args.size % 2:
        raise TransformrecError(f"make-videos: --size must be even for H.264, got {args.size}")
    for split in args.splits:
        paths = write_procedural_videos(args.root, args.num, split, args.seed, args.frames, args.size, sprites=sprites)
        print(f"{split}: {len(paths)} videos under {args.root}")


def _make_multiview(args: argparse.Namespace) -> None:
    from transformrec.data.procedural_multiview import (
        ACTIONS,
        TEST_SUBJECTS,
        TRAIN_SUBJECTS,
        write_procedural_multiview,
    )

    subjects = args.subjects or [*TRAIN_SUBJECTS, *TEST_SUBJECTS]
    try:
        folders = write_procedural_multiview(
            args.root,
            subjects,
            args.actions or ACTIONS,
            num_frames=args.frames,
            size=args.size,
            seed=args.seed,
            repetitions=args.repetitions,
        )
    except ValueError as error:  # a bad --subjects / --actions / --size: one line, before writing anything
        raise TransformrecError(f"make-multiview: {error}") from None
    print(f"{len(folders)} sequences ({len(subjects)} subjects, 4 cameras, {args.frames} frames) under {args.root}")


def _print_evaluation(results: dict) -> None:
    from transformrec.experiment import outcome_line

    print(f"\n{results['protocol']} results ({results['path']}):")
    best_k = results.get("pretrained", {}).get("best_k")
    for label in ("pretrained", "random"):
        if label in results:
            print(f"  {label:>10}: {outcome_line(results[label], best_k)}")
    gain = results.get("gain")
    if gain:
        best, at_k = gain["best"], f" (k = {gain['k']})" if "k" in gain else ""
        per_layer = "  ".join(f"{tap} {points:+.1f}" for tap, points in gain["points_per_tap"].items())
        print(
            f"        gain{at_k}: best layer {best['points']:+.1f} points (pretrained {best['pretrained_tap']} "
            f"{100 * gain['pretrained'][best['pretrained_tap']]:.1f}% vs random {best['random_tap']} "
            f"{100 * gain['random'][best['random_tap']]:.1f}%); per layer: {per_layer}"
        )
    labels = ("pretrained", "random")
    saved = [results[label]["heads_path"] for label in labels if "heads_path" in results.get(label, {})]
    if saved:
        print(f"  trained heads: {', '.join(saved)}")


def _add_checkpoint_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint",
        default=None,
        help="checkpoint to load learned transforms (LCI, damage & repair) from "
        "(default: <output_dir>/checkpoint.pt if present)",
    )


def _picture_path(out: str | None, default: Path) -> Path:
    """Where ``show`` writes: ``--out`` (a folder gets ``transforms.png`` inside it), refused in one
    line when matplotlib cannot write its format, before anything is rendered."""
    path = Path(out) if out else default
    if path.is_dir():
        path = path / default.name
    if path.suffix.lower().lstrip(".") not in PICTURE_FORMATS:
        known = ", ".join(PICTURE_FORMATS)
        raise TransformrecError(f"show: --out {path}: not a picture format matplotlib writes ({known})")
    return path


def _learned_checkpoint(config, args: argparse.Namespace) -> Path | None:
    """``--checkpoint``, else the run's own checkpoint when it exists."""
    if args.checkpoint is not None:
        return Path(args.checkpoint)
    from transformrec.training.engine import CHECKPOINT_NAME

    own = Path(config.output_dir) / CHECKPOINT_NAME
    return own if own.exists() else None


def _audit(config, args: argparse.Namespace) -> None:
    from pathlib import Path

    from transformrec.audit import audit_transform_set
    from transformrec.audit.figure import plot_audit
    from transformrec.config.build import build_data, build_transform_set
    from transformrec.runtime.distributed import resolve_device
    from transformrec.training.checkpoint import load_learned_transforms

    data = build_data(config.data)
    transform_set = build_transform_set(config, data)
    checkpoint = _learned_checkpoint(config, args)
    if load_learned_transforms(transform_set, checkpoint):
        print(f"learned transforms loaded from {checkpoint}")
    image = data[0][0] if isinstance(data[0], (tuple, list)) else data[0]
    side = min(image.shape[-2:]) if hasattr(image, "shape") and len(image.shape) >= 2 else None
    if args.patch_size is not None and side is not None and args.patch_size > side:
        raise TransformrecError(f"audit: --patch-size {args.patch_size} is larger than the images ({side} px)")
    report = audit_transform_set(
        transform_set,
        data,
        num_images=args.num_images,
        patch_size=args.patch_size,
        steps=args.steps,
        seed=config.seed,
        device=resolve_device(config.device),
        progress=_progress(config),
    )
    out = Path(args.out or f"{config.output_dir}/audit.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report.to_dict(), indent=2))
    picture = plot_audit(report, out.with_suffix(".png"))
    print(report.to_table())
    print(f"\nwrote {out} and {picture.name}")


def _gan(args: argparse.Namespace) -> None:
    from transformrec.config.loading import load_config

    config = load_config(args.config, args.overrides, kind="gan")  # checked before torch is imported
    from transformrec.config.gan_build import build_gan_trainer

    _use_threads(config.threads)
    trainer = build_gan_trainer(config, progress=_progress(config), overwrite=args.overwrite)
    summary = trainer.fit(resume=args.resume)
    line = f"trained {summary['steps']} generator steps, {summary['seconds_per_step'] * 1e3:.1f} ms/step"
    if "fid_last5" in summary:
        (fid, fid_std), (score, score_std) = summary["fid_last5"], summary["is_last5"]
        line += f"; last 5 evaluations: FID {fid:.2f} ± {fid_std:.2f}, IS {score:.2f} ± {score_std:.2f}"
    print(line)


def _progress(config) -> bool:
    """The config's ``progress``; by default on: a bar on a terminal, a plain line every 5 % (and at
    least once a minute) in a log (:mod:`transformrec.runtime.progress`)."""
    return True if config.progress is None else config.progress


def _use_threads(threads: int | None) -> None:
    """The config's ``threads``: torch's intra-op threads (two processes sharing 2 cores each want 1)."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def _import_modules(names: Sequence[str]) -> None:
    """``--import MODULE`` or ``--import path/to/file.py``: user code that registers transforms,
    backbones or data sets before the config is read.

    A module name is looked up with the working directory on ``sys.path`` (as ``python -m`` does),
    so ``--import my_transforms`` finds ``./my_transforms.py``; a path ending in ``.py`` is loaded
    as a module named after the file. Any failure — not found, a syntax error, an exception while
    importing — is one line naming the module and the cause.
    """
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for name in names:
        try:
            if name.endswith(".py"):
                _import_file(Path(name))
            else:
                importlib.import_module(name)
        except TransformrecError:
            raise
        except Exception as error:  # user code may raise anything while it is imported
            where = ""
            if isinstance(error, SyntaxError) and error.lineno is not None:
                where = f" (line {error.lineno})"
            raise TransformrecError(f"--import {name}: {type(error).__name__}: {error}{where}") from None


def _import_file(path: Path) -> None:
    """Load ``path`` as a module named after the file (registered in ``sys.modules``)."""
    if not path.is_file():
        raise TransformrecError(f"--import {path}: no such file")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise TransformrecError(f"--import {path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[path.stem]
        raise


def _run(args: argparse.Namespace) -> None:
    if args.command == "list":
        from transformrec.cli.registry_listing import all_registries

        for kind, names in all_registries().items():
            print(f"{kind}: {', '.join(names)}")
        return
    from transformrec.config.loading import load_config

    if args.command == "export":
        _export(args)
        return
    if args.command == "make-videos":
        _make_videos(args)
        return
    if args.command == "make-multiview":
        _make_multiview(args)
        return
    _import_modules(args.imports)
    if args.command == "gan":
        _gan(args)
        return
    config = load_config(args.config, args.overrides)  # checked (one line on error) before torch is imported
    import transformrec
    from transformrec import experiment
    from transformrec.runtime.distributed import is_main_process

    transformrec.register_all()
    _use_threads(config.threads)
    # Under torchrun every rank trains; only rank 0 evaluates, prints and writes.
    main_process = is_main_process()
    if args.command == "pretrain":
        summary = experiment.pretrain(config, resume=args.resume, progress=_progress(config), overwrite=args.overwrite)
        if main_process:
            print(json.dumps(summary, indent=2))
    elif args.command == "eval":
        if main_process:
            _print_evaluation(
                experiment.evaluate(config, args.weights, False if args.no_baseline else None, _progress(config))
            )
    elif args.command == "demo":
        config = _with_demo_monitor(config)
        summary = experiment.pretrain(config, resume=args.resume, progress=_progress(config), overwrite=args.overwrite)
        if main_process:
            print(
                f"pretrained {summary['steps']} steps in {summary['wall_seconds']:.0f} s; "
                f"final pretext metrics: {json.dumps(summary['final_metrics'])}"
            )
            _print_monitor(summary)
            _print_evaluation(experiment.evaluate(config, progress=_progress(config)))
    elif args.command == "show" and main_process:
        from transformrec.transform_grid import render_transform_grid

        out = _picture_path(args.out, Path(config.output_dir) / "transforms.png")
        checkpoint = _learned_checkpoint(config, args)
        figure = render_transform_grid(config, out, args.num_images, checkpoint=checkpoint)
        if figure.learned_loaded:
            print(f"learned transforms loaded from {checkpoint}")
        print(f"wrote {figure.path}: {len(figure.rows)} rows × columns {', '.join(figure.columns)}")
    elif args.command == "audit" and main_process:
        _audit(config, args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``transformrec`` command.

    The project's own errors (a config field, a file, an existing run, an interrupted run, a
    diverged loss) and file-system errors print as one line naming the field or file, with a
    non-zero exit code; ``-v`` shows their tracebacks instead.
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    # Imported late so that ``transformrec --help`` stays fast.
    try:
        _run(args)
    except KeyboardInterrupt:  # Ctrl-C outside the training loop (which stops after its step by itself)
        if args.verbose:
            raise
        resume = " (continue with --resume)" if args.command in ("pretrain", "demo", "gan") else ""
        print(f"error: interrupted by Ctrl-C during {args.command}{resume}", file=sys.stderr)
        return 130
    except (TransformrecError, OSError) as error:
        if args.verbose:
            raise
        message = error.command_line_message() if hasattr(error, "command_line_message") else str(error)
        print(f"error: {' '.join(message.split())}", file=sys.stderr)
        return getattr(error, "exit_code", 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
