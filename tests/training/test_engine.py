"""The loop under every trainer, on a toy task whose every number is known in closed form.

The task draws one value per step from its own generator and adds it to a running total; an epoch
is three steps. What the engine promises — exact resume, checkpoints at epoch ends and every
``checkpoint_every`` steps, epoch means, skipped non-finite steps, refusal to overwrite a run,
stop on a signal with a checkpoint — is checked against those values, not against another run of
the engine alone.
"""

import csv
import os
import signal
from collections.abc import Iterator

import pytest
import torch

from transformrec.errors import RunExistsError, TrainingInterruptedError
from transformrec.runtime.distributed import single_process_context
from transformrec.training.checkpoint import load_checkpoint
from transformrec.training.engine import NonFiniteLossError, StepOutcome, TrainingEngine, TrainingTask

EPOCH = 3


class CountingTask(TrainingTask):
    """Adds one uniform draw per step; ``bad_steps`` report a non-finite loss (skipped, no update)."""

    def __init__(self, out, total=9, bad_steps=(), signal_at=None, **engine_options) -> None:
        self.total, self.bad_steps, self.signal_at = total, set(bad_steps), signal_at
        self.generator = torch.Generator().manual_seed(0)
        self.sum, self.draws = 0.0, []
        self.engine = TrainingEngine(
            self, output_dir=out, context=single_process_context("cpu", "test"), progress=False, **engine_options
        )

    @property
    def total_steps(self) -> int:
        return self.total

    def state_dict(self):
        return {"generator": self.generator.get_state(), "sum": self.sum, "draws": list(self.draws)}

    def load_state_dict(self, state) -> None:
        self.generator.set_state(state["generator"])
        self.sum, self.draws = state["sum"], list(state["draws"])

    def steps(self) -> Iterator[StepOutcome]:
        while True:
            number = self.step + 1  # the step about to be performed, 1-based
            if number == self.signal_at:
                os.kill(os.getpid(), signal.SIGTERM)
            if number in self.bad_steps:
                yield StepOutcome(None, samples=1, end_of_epoch=number % EPOCH == 0)
                continue
            value = float(torch.rand(1, generator=self.generator))
            self.sum += value
            self.draws.append(value)
            yield StepOutcome({"loss": float(number)}, samples=1, end_of_epoch=number % EPOCH == 0)

    def summary(self):
        return {"sum": self.sum}


def _reference_draws(count: int) -> list[float]:
    generator = torch.Generator().manual_seed(0)
    return [float(torch.rand(1, generator=generator)) for _ in range(count)]


def test_a_run_cut_and_resumed_draws_exactly_the_values_of_an_uninterrupted_one(tmp_path):
    CountingTask(tmp_path, max_steps=4).engine.fit()
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 4
    resumed = CountingTask(tmp_path)
    summary = resumed.engine.fit(resume=True)
    assert resumed.draws == _reference_draws(9)  # the generator's state travelled in the checkpoint
    assert summary["steps"] == 9 and summary["resumed_from_step"] == 4
    assert summary["sum"] == pytest.approx(sum(_reference_draws(9)))


def test_epoch_means_are_the_means_of_the_last_epochs_steps_and_rows_follow_log_every(tmp_path):
    summary = CountingTask(tmp_path, total=8, log_every=2, tensorboard=False).engine.fit()
    # epochs end after steps 3 and 6; steps 7-8 are an unfinished epoch: the last complete one counts
    assert summary["final_metrics"] == {"loss": (4 + 5 + 6) / 3}
    with (tmp_path / "metrics.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    steps_with_loss = [int(r["step"]) for r in rows if r.get("loss")]
    assert steps_with_loss == [2, 4, 6, 8]
    means = {int(r["step"]): float(r["epoch_mean/loss"]) for r in rows if r.get("epoch_mean/loss")}
    assert means == {3: 2.0, 6: 5.0}


def test_checkpoints_are_written_every_n_steps_and_at_epoch_ends(tmp_path, monkeypatch):
    task = CountingTask(tmp_path, total=7, checkpoint_every=5)
    written = []
    original = task.engine.save_checkpoint

    def record():
        written.append(task.engine.step)
        return original()

    monkeypatch.setattr(task.engine, "save_checkpoint", record)
    task.engine.fit()
    assert written == [3, 5, 6, 7]  # epoch ends 3 and 6, every 5 steps, and the end of the run


def test_non_finite_steps_are_skipped_and_counted_and_ten_in_a_row_stop_the_run(tmp_path):
    summary = CountingTask(tmp_path / "one", bad_steps=(2,)).engine.fit()
    assert summary["skipped_nonfinite_steps"] == 1 and summary["steps"] == 9
    assert summary["sum"] == pytest.approx(sum(_reference_draws(8)))  # the skipped step drew nothing
    diverging = CountingTask(tmp_path / "ten", total=30, bad_steps=range(5, 30))
    with pytest.raises(NonFiniteLossError, match="10 consecutive steps"):
        diverging.engine.fit()
    assert diverging.engine.skipped_steps == 10


def test_a_finished_run_is_refused_unless_resumed_or_overwritten(tmp_path):
    CountingTask(tmp_path, total=3).engine.fit()
    python_words = "pass resume=True to continue it, overwrite=True to replace it"
    with pytest.raises(RunExistsError, match=python_words) as refused:
        CountingTask(tmp_path, total=3).engine.fit()
    assert "pass --resume to continue it, --overwrite to replace it" in refused.value.command_line_message()
    replaced = CountingTask(tmp_path, total=3, overwrite=True)
    assert replaced.engine.fit()["resumed_from_step"] is None and replaced.draws == _reference_draws(3)


def test_a_stop_signal_ends_the_run_after_the_current_step_with_a_checkpoint(tmp_path):
    task = CountingTask(tmp_path, signal_at=5)
    with pytest.raises(TrainingInterruptedError, match="interrupted by SIGTERM after step 5"):
        task.engine.fit()
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 5
    resumed = CountingTask(tmp_path)
    resumed.engine.fit(resume=True)
    assert resumed.draws == _reference_draws(9)


def test_a_task_state_may_not_use_the_engines_keys(tmp_path):
    class Clashing(CountingTask):
        def state_dict(self):
            return {**super().state_dict(), "step": 0}

    with pytest.raises(ValueError, match=r"reserved by the engine: \['step'\]"):
        Clashing(tmp_path, total=3).engine.fit()


def test_a_run_logged_to_a_file_gets_plain_progress_lines_with_its_metrics(tmp_path, capsys):
    task = CountingTask(tmp_path, total=40)
    task.engine.progress = True  # pytest's stderr is not a terminal: lines, not a bar
    task.engine.fit()
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("train: ")]
    assert len(lines) == 20 and lines[-1].startswith("train: 40/40 (100.0 %) loss 40.000 img/s ")
