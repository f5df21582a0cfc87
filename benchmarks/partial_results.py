"""Finished runs of a long benchmark, kept on disk as they finish so an interrupted run resumes.

Why: a full table takes an hour or more on 2 cores; a run cut off by the end of a session (or a
crash) must not lose the rows it already finished. Each finished run is stored under a key that
names everything it depends on (suite, data set, row, seed), written atomically. Several
processes may fill one file (parts of a table run side by side, one per core): each write merges
under a file lock, so none drops another's runs, and a run one process has started is claimed
(``<name>.<suite>.partial.claims/<key>`` holding its pid) so the others skip it instead of repeating it:
starting the same benchmark command twice fills one table on two cores. A claim whose process
has died is taken over. The ``*.partial.json`` files are tracked by git, so a fresh clone resumes a
table where the last committed runs left it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
CHECKPOINT_EVERY = 200
"""Training steps between checkpoints of a run in a :meth:`PartialResults.run_folder` (a minute or two here)."""


def resumable_trainer_options(folder: Path) -> dict[str, Any]:
    """``Trainer`` options of a benchmark run in a :meth:`PartialResults.run_folder`: resumed from the
    folder's checkpoint, checkpointed every ``CHECKPOINT_EVERY`` steps, quiet, on the CPU."""
    return {
        "output_dir": folder,
        "resume": True,
        "checkpoint_every": CHECKPOINT_EVERY,
        "progress": False,
        "tensorboard": False,
        "device": "cpu",
    }


def missing_runs_lines(missing: list[str]) -> list[str]:
    """The markdown lines that list a table's runs not finished yet (none when all are)."""
    if not missing:
        return []
    runs = ", ".join(f"`{key}`" for key in missing)
    return ["", f"Not run yet ({len(missing)} runs; the tables show the finished ones): {runs}."]


def _process_alive(pid_text: str) -> bool:
    """Whether the process ``pid_text`` names still runs (an unreadable claim counts as dead)."""
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


class PartialResults:
    """A JSON mapping ``key -> result`` at ``path``; ``enabled=False`` keeps it in memory only (smoke runs).

    ``run_missing=False`` runs nothing: missing keys give ``None`` and are listed in ``missing``, so
    a table can be rendered from the runs that finished (``python -m benchmarks run --finished-only``).
    """

    def __init__(self, path: Path, enabled: bool = True, run_missing: bool = True) -> None:
        self.path = path
        self.enabled = enabled
        self.run_missing = run_missing
        self.missing: list[str] = []
        self.finished: dict[str, Any] = json.loads(path.read_text()) if enabled and path.exists() else {}

    @classmethod
    def of_benchmark(cls, name: str, suite: str, finished_only: bool = False) -> PartialResults:
        """``results/<name>.<suite>.partial.json``; a smoke suite keeps nothing (its numbers mean nothing)."""
        return cls(
            RESULTS_DIR / f"{name}.{suite}.partial.json", enabled=suite != "smoke", run_missing=not finished_only
        )

    def get_or_run(self, key: str, run: Callable[[], Any]) -> Any:
        """The stored result of ``key``, else ``run()``'s, stored before it is returned (``None``
        without running when ``run_missing`` is off)."""
        if key not in self.finished and self.enabled and self.path.exists():
            self.finished = {**json.loads(self.path.read_text()), **self.finished}  # another process's runs
        if key in self.finished:
            print(f"  {key}: reused from {self.path.name}", flush=True)
        elif not self.run_missing:
            self.missing.append(key)
            return None
        elif not self._claim(key):
            print(f"  {key}: running in another process, skipped here", flush=True)
            self.missing.append(key)
            return None
        else:
            try:
                self.finished[key] = run()
                self._write()
            finally:
                self._release(key)
        return self.finished[key]

    @contextlib.contextmanager
    def run_folder(self, key: str) -> Iterator[Path]:
        """The output folder of run ``key``, kept when the run is cut off so that it resumes.

        Why: a row of a chapter table trains for up to an hour here, often longer than what is left
        of a session. Trained with ``resume=True`` in this folder (``results/<name>.<suite>.partial.runs/<key>``,
        not tracked by git), a run cut off by the end of a session continues from its last checkpoint
        the next time the benchmark runs, instead of from step 0; the claim on ``key`` keeps other
        processes out of it. Removed once the run has finished; a temporary folder where nothing is
        kept (the smoke suite).
        """
        if not self.enabled:
            with tempfile.TemporaryDirectory() as out:
                yield Path(out)
            return
        folder = self.path.with_suffix(".runs") / key.replace("/", "__")
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        shutil.rmtree(folder, ignore_errors=True)  # only after a finished run: a cut-off one stays

    def _claim_file(self, key: str) -> Path:
        return self.path.with_suffix(".claims") / key.replace("/", "__")

    def _claim(self, key: str) -> bool:
        """Take ``key`` for this process unless a live process holds it; always true when disabled."""
        if not self.enabled:
            return True
        claim = self._claim_file(key)
        claim.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                with open(claim, "x") as handle:
                    handle.write(str(os.getpid()))
                return True
            except FileExistsError:
                if _process_alive(claim.read_text().strip()):
                    return False
                claim.unlink(missing_ok=True)  # its process died: take the run over
        return False

    def _release(self, key: str) -> None:
        if self.enabled:
            self._claim_file(key).unlink(missing_ok=True)

    def _write(self) -> None:
        if not self.enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            on_disk = json.loads(self.path.read_text()) if self.path.exists() else {}
            self.finished = {**on_disk, **self.finished}
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(self.finished, indent=1))
            os.replace(temporary, self.path)


def seeded_plan(rows: Sequence[str], seeded: Sequence[str], seeds: int) -> list[tuple[str, int]]:
    """(row, seed) row by row: ``seeds`` seeds on the rows in ``seeded``, seed 0 on the others."""
    return [(row, seed) for row in rows for seed in (range(seeds) if row in seeded else range(1))]


def planned_runs(
    partial: PartialResults,
    plan: Iterable[tuple[str, int]],
    run: Callable[[str, int, Path], dict],
    describe: Callable[[dict], str],
) -> dict[str, list[dict]]:
    """The run loop of every chapter table: each (row, seed) of ``plan``, in its order.

    Each run is stored under ``row/seed`` (so rows of one seed pair up) and trained by
    ``run(row, seed, folder)`` in ``folder``, its :meth:`PartialResults.run_folder` (resumed from the
    checkpoint a cut-off run left there); finished runs are returned by row in the plan's order,
    carrying their ``seed``, and each is printed with ``describe(result)``. Runs another process
    holds are left out (``partial.missing``). Why one loop: the tables differ in what a row is and in
    which order their claims' runs should finish (``plan``), not in how a run is stored or resumed.
    """
    runs: dict[str, list[dict]] = {}
    for row, seed in plan:

        def one(row: str = row, seed: int = seed) -> dict:
            with partial.run_folder(f"{row}/{seed}") as folder:
                return run(row, seed, folder)

        out = partial.get_or_run(f"{row}/{seed}", one)
        if out is None:
            continue
        runs.setdefault(row, []).append({**out, "seed": seed})
        print(f"  {row} seed {seed}: {describe(out)}", flush=True)
    return runs


def seeded_runs(
    partial: PartialResults,
    rows: Sequence[str],
    seeded: Sequence[str],
    seeds: int,
    run: Callable[[str, int, Path], dict],
    describe: Callable[[dict], str],
) -> dict[str, list[dict]]:
    """:func:`planned_runs` row by row (:func:`seeded_plan`): ``seeds`` seeds on the rows in ``seeded``."""
    return planned_runs(partial, seeded_plan(rows, seeded, seeds), run, describe)
