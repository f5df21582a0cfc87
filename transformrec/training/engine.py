"""The one training loop under every trainer: checkpoints, exact resume, logs, progress, NaN handling.

Why one engine: the pretext Trainer (ch. 3–6, 8) and the GAN trainer (ch. 7) differ only in what
one step does. Everything around the step — the step counter, the global and CUDA RNG states in
atomic checkpoints, resume that continues bit for bit, CSV + TensorBoard logs that read as if a
resumed run had never stopped, the progress bar, skipping non-finite steps and stopping when they
persist, the JSON summary — is written once here. A trainer is a :class:`TrainingTask`: it owns its
networks, optimisers and generators, and yields one :class:`StepOutcome` per step it performs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from transformrec.atomic_save import save_atomic
from transformrec.errors import CheckpointMismatchError, RunExistsError, TrainingInterruptedError, TransformrecError
from transformrec.runtime.distributed import DistributedContext
from transformrec.runtime.progress import progress
from transformrec.runtime.run_lock import run_lock
from transformrec.training.checkpoint import checkpoint_entry, load_checkpoint, state_dict_mismatch
from transformrec.training.run_logger import RunLogger

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
SUMMARY_NAME = "summary.json"
RUN_FILES = (CHECKPOINT_NAME, SUMMARY_NAME, "metrics.csv", "tensorboard")
"""What a run writes into its output folder (and ``overwrite`` removes)."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
MAX_CONSECUTIVE_BAD_STEPS = 10
ENGINE_KEYS = ("step", "engine")
"""Checkpoint keys the engine owns; a task's own state sits beside them at the top level."""


class NonFiniteLossError(TransformrecError, FloatingPointError):
    """Raised when the loss stays NaN/inf for many consecutive steps (training has diverged)."""


@dataclass
class StepOutcome:
    """What one step reports to the engine.

    ``metrics`` is ``None`` when the step was skipped because its loss was not finite (the task
    made no update); ``samples`` counts the real examples it consumed (for throughput);
    ``end_of_epoch`` closes an epoch after this step (epoch means are logged and a checkpoint is
    written); ``log`` adds scalars to the CSV/TensorBoard row of this step only (learning rate,
    FID), without entering the epoch means.
    """

    metrics: dict[str, float] | None
    samples: int = 0
    end_of_epoch: bool = False
    log: dict[str, float] = field(default_factory=dict)


class TrainingTask(ABC):
    """What differs between training loops: the state a trainer owns and what one step does.

    The engine calls :meth:`start` once (``resumed`` tells whether a checkpoint was loaded), then
    iterates :meth:`steps` until ``total_steps`` (or the engine's ``max_steps``) steps have been
    performed. :meth:`steps` must continue from the position held in the task's state, so that a
    resumed task yields exactly the steps an uninterrupted one would have.
    """

    progress_label: str = "train"
    postfix_keys: tuple[str, ...] = ("loss",)
    engine: TrainingEngine
    """The engine running this task; a task creates it in its constructor."""

    @property
    def step(self) -> int:
        """Steps performed so far (skipped non-finite ones included)."""
        return self.engine.step

    @property
    def skipped_steps(self) -> int:
        """Steps skipped because their loss was not finite."""
        return self.engine.skipped_steps

    @property
    def checkpoint_path(self) -> Path | None:
        return self.engine.checkpoint_path

    def save_checkpoint(self) -> Path | None:
        """Write the run's checkpoint now (atomically, main process only)."""
        return self.engine.save_checkpoint()

    @property
    @abstractmethod
    def total_steps(self) -> int:
        """Steps of the whole run (the schedule's length)."""

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Networks, optimisers, schedules, the task's generators and its position in the data."""

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`state_dict`."""

    @abstractmethod
    def steps(self) -> Iterator[StepOutcome]:
        """Perform steps from the current position, one outcome per step."""

    def start(self, resumed: bool) -> None:  # noqa: B027 - optional hook
        """Called once before the first step (pre-training phases run here on a fresh start)."""

    def after_step(self, step: int) -> dict[str, float]:
        """Periodic work after step ``step`` (sample grids, FID); returns scalars to log at it."""
        return {}

    def summary(self) -> dict[str, Any]:
        """Task-specific fields of the run's JSON summary."""
        return {}

    def write_outputs(self, output_dir: Path) -> dict[str, Any]:
        """Write final artefacts (exported weights) on the main process; returns summary fields."""
        return {}

    def run_signature(self) -> dict[str, Any]:
        """Settings a resumed run should share with its checkpoint (learning rate, seed, data size...).

        Stored in checkpoints; resuming with other values is allowed but warned about, by name.
        """
        return {}


class TrainingEngine:
    """Runs a :class:`TrainingTask` with checkpoints, exact resume, logs, progress and a summary.

    Args:
        task: the trainer-specific part.
        output_dir: checkpoints, ``metrics.csv``, TensorBoard logs and ``summary.json`` (None: nowhere).
        context: the process and its device (:func:`~transformrec.runtime.distributed.init_distributed`
            for runs that shard over ``torchrun`` processes, ``single_process_context`` for those that do
            not); only the main process writes files and shows progress.
        checkpoint_every: steps between checkpoints (one is also written at every epoch end and at the end).
        log_every: steps between logged rows of step metrics.
        max_steps: stop early after this many steps (the task's schedule still spans ``total_steps``).
        progress: show a progress bar (plain lines when the output is not a terminal).
        tensorboard: mirror the CSV to TensorBoard.
        overwrite: a fresh run (no resume) into a folder that already holds one replaces it; without
            it such a run is refused (:class:`~transformrec.errors.RunExistsError`), so nothing is lost.

    SIGINT (Ctrl-C) and SIGTERM stop training after the current step: a checkpoint is written and
    :class:`~transformrec.errors.TrainingInterruptedError` says where (a second signal acts at once).
    """

    def __init__(
        self,
        task: TrainingTask,
        *,
        output_dir: str | Path | None,
        context: DistributedContext,
        checkpoint_every: int | None = None,
        log_every: int = 10,
        max_steps: int | None = None,
        progress: bool = True,
        tensorboard: bool = True,
        overwrite: bool = False,
    ) -> None:
        self.task = task
        self.overwrite = overwrite
        self._stop_signal: int | None = None
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.context = context
        self.is_main = context.is_main
        self.checkpoint_every, self.log_every, self.max_steps = checkpoint_every, log_every, max_steps
        self.progress, self.tensorboard = progress, tensorboard
        self.step = 0
        self.skipped_steps, self._consecutive_bad = 0, 0
        self._epoch_sums: dict[str, float] = {}
        self._epoch_count = 0
        self.last_epoch_means: dict[str, float] | None = None
        self.resumed_from: int | None = None
        self._monitored: dict[str, float] = {}

    # ------------------------------------------------------------------ state
    @property
    def checkpoint_path(self) -> Path | None:
        return self.output_dir / CHECKPOINT_NAME if self.output_dir is not None else None

    def state_dict(self) -> dict[str, Any]:
        """The task's state, plus the step counter, epoch sums and the global RNG states."""
        state = self.task.state_dict()
        clashes = [key for key in ENGINE_KEYS if key in state]
        if clashes:
            raise ValueError(f"{type(self.task).__name__}.state_dict() uses keys reserved by the engine: {clashes}")
        engine: dict[str, Any] = {
            "skipped_steps": self.skipped_steps,
            "epoch_sums": dict(self._epoch_sums),
            "epoch_count": self._epoch_count,
            "last_epoch_means": self.last_epoch_means,
            "torch_rng": torch.get_rng_state(),
            "signature": self.task.run_signature(),
        }
        if torch.cuda.is_available():
            engine["cuda_rng"] = torch.cuda.get_rng_state_all()
        return {**state, "step": self.step, "engine": engine}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; a checkpoint that is not one, or does not fit, is one error naming the file."""
        engine = checkpoint_entry(state, "engine", self.checkpoint_path, "a training checkpoint of this project")
        self._warn_about_changed_settings(engine.get("signature", {}))
        try:
            self.task.load_state_dict({k: v for k, v in state.items() if k not in ENGINE_KEYS})
        except RuntimeError as error:  # state_dict mismatches: say which, in one line
            raise CheckpointMismatchError(
                f"{self.checkpoint_path}: does not fit this run's model ({state_dict_mismatch(error)}); "
                "resume with the settings it was trained with, or start a new output_dir"
            ) from None
        except (KeyError, TypeError, ValueError) as error:  # another task's checkpoint, other heads
            raise CheckpointMismatchError(
                f"{self.checkpoint_path}: does not fit this run ({error}); resume with the settings it was "
                "trained with, or start a new output_dir"
            ) from None
        self.step = state["step"]
        self.skipped_steps = engine["skipped_steps"]
        self._epoch_sums, self._epoch_count = dict(engine["epoch_sums"]), engine["epoch_count"]
        self.last_epoch_means = engine["last_epoch_means"]
        torch.set_rng_state(engine["torch_rng"])
        if "cuda_rng" in engine and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(engine["cuda_rng"])

    def _warn_about_changed_settings(self, saved: dict[str, Any]) -> None:
        current = self.task.run_signature()
        changed = [
            f"{key}: {saved.get(key)!r} -> {current.get(key)!r}"
            for key in sorted(set(saved) | set(current))
            if saved.get(key) != current.get(key)
        ]
        if changed:
            log.warning(
                "resuming %s with settings that differ from its checkpoint: %s", self.output_dir, "; ".join(changed)
            )

    def _claim_output_dir(self) -> None:
        """Refuse to start a fresh run over an existing one, unless ``overwrite`` (which clears it first)."""
        if self.output_dir is None:
            return
        found = [name for name in RUN_FILES if (self.output_dir / name).exists()]
        if CHECKPOINT_NAME not in found and SUMMARY_NAME not in found:
            return
        if not self.overwrite:
            raise RunExistsError(self.output_dir, found)
        if self.is_main:
            for name in found:
                path = self.output_dir / name
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)

    def _remove_stale_temporary_files(self) -> None:
        """Delete what an interrupted atomic save left behind (``.checkpoint.pt.<random>.tmp``): under
        the run lock no other process can be writing one."""
        if self.output_dir is None or not self.is_main or not self.output_dir.is_dir():
            return
        stale = sorted(self.output_dir.glob(".*.tmp"))
        for path in stale:
            path.unlink(missing_ok=True)
        if stale:
            log.warning("%s: removed %d temporary file(s) of an interrupted save", self.output_dir, len(stale))

    @contextlib.contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        """Turn SIGINT / SIGTERM into "stop after this step" while the loop runs (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}

        def request_stop(number: int, _frame: Any) -> None:
            self._stop_signal = number
            for other, handler in previous.items():  # a second signal interrupts at once
                signal.signal(other, handler)

        for number in STOP_SIGNALS:
            signal.signal(number, request_stop)
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _interrupted(self, when: str | None = None) -> TrainingInterruptedError:
        path = self.save_checkpoint()
        name = signal.Signals(self._stop_signal).name if self._stop_signal is not None else "a signal"
        where = f"checkpoint saved to {path}; continue with --resume" if path else "no output_dir, nothing saved"
        return TrainingInterruptedError(f"interrupted by {name} {when or f'after step {self.step}'}: {where}")

    @contextlib.contextmanager
    def phase_log(self, name: str, resume_step: int | None) -> Iterator[RunLogger | None]:
        """The log of a phase a task runs in :meth:`TrainingTask.start`: ``<name>.csv`` beside
        ``metrics.csv`` (and its own TensorBoard run), on the main process of a run with an output
        folder. ``resume_step``: the phase step a resumed run restarts from (later rows are dropped)."""
        if self.output_dir is None or not self.is_main:
            yield None
            return
        logger = RunLogger(self.output_dir, resume_step=resume_step, tensorboard=self.tensorboard, name=name)
        try:
            yield logger
        finally:
            logger.close()

    def after_phase_step(
        self, phase: str, done: int, metrics: dict[str, float] | None = None, logger: RunLogger | None = None
    ) -> None:
        """Called by a task after each step of a phase it runs in :meth:`TrainingTask.start`
        (a learned transform's pre-training): its ``metrics`` logged every ``log_every`` steps, a
        checkpoint every ``checkpoint_every`` steps of the phase, and a stop on SIGINT / SIGTERM,
        as in the main loop, so the phase resumes too."""
        if logger is not None and metrics and done % self.log_every == 0:
            logger.log(done, metrics)
        if self._stop_signal is not None:
            raise self._interrupted(f"after step {done} of {phase}")
        if self.checkpoint_every and done % self.checkpoint_every == 0:
            self.save_checkpoint()

    def save_checkpoint(self) -> Path | None:
        """Write the checkpoint atomically (main process only); returns its path."""
        if self.checkpoint_path is None or not self.is_main:
            return None
        return save_atomic(self.state_dict(), self.checkpoint_path)

    def resume(self, map_location: str | torch.device | None = None) -> bool:
        """Load ``output_dir/checkpoint.pt`` (onto the context's device by default) if there is one.

        Returns whether a checkpoint was loaded.
        """
        if self.checkpoint_path is None or not self.checkpoint_path.exists():
            return False
        location = self.context.device if map_location is None else map_location
        self.load_state_dict(load_checkpoint(self.checkpoint_path, map_location=location))
        self.resumed_from = self.step
        log.info("resumed from %s at step %d", self.checkpoint_path, self.step)
        return True

    # ------------------------------------------------------------------ loop
    def fit(
        self,
        resume: bool = False,
        map_location: str | torch.device | None = None,
        before_training: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Run the task to its end (or ``max_steps``); returns the JSON summary it also writes.

        The output folder is locked for the whole run (one run per folder, see
        :mod:`transformrec.runtime.run_lock`); ``before_training`` runs once the run has claimed
        the folder (resumed, fresh, or replacing one with ``overwrite``), so that what it writes
        (the run's ``config.yaml``) never lands in a folder whose run was refused.
        """
        locked = self.output_dir is not None and self.is_main
        with run_lock(self.output_dir) if locked else contextlib.nullcontext():
            return self._fit(resume, map_location, before_training)

    def _fit(
        self,
        resume: bool,
        map_location: str | torch.device | None,
        before_training: Callable[[], None] | None,
    ) -> dict[str, Any]:
        resumed = False
        if resume:
            resumed = self.resume(map_location)
            if not resumed and self.checkpoint_path is not None:
                log.warning("resume: no checkpoint at %s; starting from scratch", self.checkpoint_path)
        if not resumed:
            self._claim_output_dir()
        self._remove_stale_temporary_files()
        if before_training is not None:
            before_training()
        self._stop_signal, self._samples = None, 0
        with self._stop_on_signals():  # a task's pre-training phase stops on signals like the loop
            self.task.start(resumed)
        logger = None
        if self.output_dir is not None and self.is_main:
            logger = RunLogger(self.output_dir, resume_step=self.resumed_from, tensorboard=self.tensorboard)
        last_step = min(self.task.total_steps, self.max_steps or self.task.total_steps)
        bar = progress(
            total=last_step,
            initial=self.step,
            enabled=self.progress and self.is_main,
            desc=self.task.progress_label,
        )
        started = time.perf_counter()
        try:
            if self.step < last_step:
                with self._stop_on_signals():
                    self._loop(logger, bar, last_step, started)
            self.save_checkpoint()
        finally:
            bar.close()
            if logger is not None:
                logger.close()
        return self._write_summary(time.perf_counter() - started, self._samples)

    def _loop(self, logger: RunLogger | None, bar: Any, last_step: int, started: float) -> None:
        """Steps until ``last_step``, checkpoints, epoch ends, and a stop requested by a signal."""
        for outcome in self.task.steps():
            self._samples += outcome.samples
            self._record(outcome, logger, started)
            if outcome.metrics:  # before the update, so a line printed at this step shows its values
                bar.set_postfix(self._shown(outcome.metrics, started), refresh=False)
            bar.update(1)
            if outcome.end_of_epoch:
                self._finish_epoch(logger)
                self.save_checkpoint()
            elif self.checkpoint_every and self.step % self.checkpoint_every == 0:
                self.save_checkpoint()
            if self._stop_signal is not None:
                raise self._interrupted()
            if self.step >= last_step:
                break

    def _shown(self, metrics: dict[str, float], started: float) -> dict[str, str]:
        """What the progress line shows: the task's keys (loss), every accuracy, images per second."""
        keys = [k for k in self.task.postfix_keys if k in metrics]
        keys += sorted(k for k in metrics if k.startswith("acc/") and k not in keys)
        shown = {key: f"{metrics[key]:.3f}" for key in keys}
        shown.update({key: f"{value:.3f}" for key, value in self._monitored.items()})
        shown["img/s"] = f"{self._samples / max(time.perf_counter() - started, 1e-9):.0f}"
        return shown

    def _record(self, outcome: StepOutcome, logger: RunLogger | None, started: float) -> None:
        if outcome.metrics is None:
            # Skip and count: one bad batch should not poison the weights; many in a row mean divergence.
            self.skipped_steps += 1
            self._consecutive_bad += 1
            if self._consecutive_bad >= MAX_CONSECUTIVE_BAD_STEPS:
                raise NonFiniteLossError(
                    f"loss was not finite for {self._consecutive_bad} consecutive steps "
                    f"(step {self.step}); lower the learning rate or check the data"
                )
            self.step += 1
        else:
            self._consecutive_bad = 0
            self.step += 1
            for key, number in outcome.metrics.items():
                self._epoch_sums[key] = self._epoch_sums.get(key, 0.0) + number
            self._epoch_count += 1
        extra = self.task.after_step(self.step)
        self._monitored.update({k: v for k, v in extra.items() if k.startswith("monitor/")})  # shown until renewed
        if logger is None:
            return
        row: dict[str, float] = {}
        if outcome.metrics and self.step % self.log_every == 0:
            elapsed = max(time.perf_counter() - started, 1e-9)
            row.update(outcome.metrics, **outcome.log, images_per_second=self._samples / elapsed)
        row.update(extra)
        if row:
            logger.log(self.step, row)

    def _finish_epoch(self, logger: RunLogger | None) -> None:
        self.last_epoch_means = {k: v / max(self._epoch_count, 1) for k, v in self._epoch_sums.items()}
        if logger is not None:
            logger.log(self.step, {f"epoch_mean/{k}": v for k, v in self.last_epoch_means.items()})
        self._epoch_sums, self._epoch_count = {}, 0

    def final_metrics(self) -> dict[str, float]:
        """Means of the last complete epoch, or of the steps since the last epoch ended."""
        if self.last_epoch_means is not None:
            return dict(self.last_epoch_means)
        return {k: v / self._epoch_count for k, v in self._epoch_sums.items()} if self._epoch_count else {}

    def _write_summary(self, wall: float, samples: int) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "steps": self.step,
            "total_steps": self.task.total_steps,
            "resumed_from_step": self.resumed_from,
            "skipped_nonfinite_steps": self.skipped_steps,
            "wall_seconds": wall,
            "images_per_second": samples / wall if wall > 0 else None,
            **self.task.summary(),
            "final_metrics": self.final_metrics(),
        }
        if self.output_dir is not None and self.is_main:
            summary.update(self.task.write_outputs(self.output_dir))
            self.output_dir.mkdir(parents=True, exist_ok=True)
            (self.output_dir / SUMMARY_NAME).write_text(json.dumps(summary, indent=2))
        return summary
