"""Scalar logging to CSV (always) and TensorBoard (when installed), resumable without duplicates."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

log = logging.getLogger(__name__)


class RunLogger:
    """Writes one CSV row per logged step and mirrors scalars to TensorBoard.

    On resume from step ``s``, rows after ``s`` (written after the checkpoint by the run that
    was interrupted) are dropped, and TensorBoard purges the same steps, so logs read as if the
    run had never stopped.
    """

    def __init__(
        self, directory: str | Path, resume_step: int | None = None, tensorboard: bool = True, name: str = "metrics"
    ) -> None:
        """``name``: the CSV's stem; a name other than ``metrics`` (a pre-training phase's log) also gets
        its own TensorBoard run, ``tensorboard/<name>``, since its steps count a different loop."""
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.directory / f"{name}.csv"
        self._rows: list[dict[str, float]] = []
        if resume_step is not None and self.csv_path.exists():
            self._rows = self._rows_up_to(resume_step)
        self._columns: list[str] = sorted({k for row in self._rows for k in row} - {"step"})
        self._rewrite()
        self._writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                board = self.directory / "tensorboard" if name == "metrics" else self.directory / "tensorboard" / name
                self._writer = SummaryWriter(str(board), purge_step=resume_step)
            except ImportError:  # pragma: no cover - tensorboard is a declared dependency
                log.warning("tensorboard is not installed; logging to CSV only")

    def _rows_up_to(self, resume_step: int) -> list[dict[str, float]]:
        """The log's rows up to the checkpoint's step; a damaged log (cut mid-line, edited, not a CSV)
        is set aside as ``<name>.csv.damaged`` and a new one begun, so a resume never fails on it."""
        try:
            with self.csv_path.open(newline="") as stream:
                return [
                    {k: int(float(v)) if k == "step" else float(v) for k, v in row.items() if v != ""}
                    for row in csv.DictReader(stream)
                    if float(row["step"]) <= resume_step
                ]
        except (csv.Error, KeyError, TypeError, ValueError, UnicodeDecodeError) as error:
            damaged = self.csv_path.with_name(self.csv_path.name + ".damaged")
            self.csv_path.replace(damaged)
            log.warning("%s is damaged (%s): moved to %s, logging starts afresh", self.csv_path, error, damaged.name)
            return []

    def log(self, step: int, scalars: dict[str, float]) -> None:
        """Record ``scalars`` at ``step``."""
        row = {"step": int(step), **{k: float(v) for k, v in scalars.items()}}  # steps are counts: "12", not "12.0"
        self._rows.append(row)
        new_columns = sorted(set(scalars) - set(self._columns))
        if new_columns:
            self._columns = sorted(set(self._columns) | set(new_columns))
            self._rewrite()
        else:
            with self.csv_path.open("a", newline="") as stream:
                csv.DictWriter(stream, fieldnames=["step", *self._columns]).writerow(row)
        if self._writer is not None:
            for key, value in scalars.items():
                self._writer.add_scalar(key, value, step)

    def _rewrite(self) -> None:
        with self.csv_path.open("w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=["step", *self._columns])
            writer.writeheader()
            writer.writerows(self._rows)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
