"""benchmarks.partial_results: finished runs survive an interruption and two writers do not drop each other's."""

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.partial_results import PartialResults  # noqa: E402


def test_a_finished_run_is_stored_at_once_and_reused_instead_of_rerun(tmp_path):
    path = tmp_path / "table.partial.json"
    calls = []
    first = PartialResults(path)
    assert first.get_or_run("row/0", lambda: calls.append(1) or {"acc": 0.5}) == {"acc": 0.5}
    assert json.loads(path.read_text()) == {"row/0": {"acc": 0.5}}  # on disk before the next run starts
    resumed = PartialResults(path)
    assert resumed.get_or_run("row/0", lambda: calls.append(2) or {"acc": 0.9}) == {"acc": 0.5}
    assert calls == [1]


def test_two_writers_of_one_file_keep_both_of_their_runs(tmp_path):
    path = tmp_path / "table.partial.json"
    a, b = PartialResults(path), PartialResults(path)  # opened before either wrote
    a.get_or_run("part71/0", lambda: 1)
    b.get_or_run("part74/0", lambda: 2)
    assert json.loads(path.read_text()) == {"part71/0": 1, "part74/0": 2}
    assert b.get_or_run("part71/0", lambda: 99) == 1  # b sees a's run instead of redoing it


def test_disabled_results_stay_in_memory(tmp_path):
    path = tmp_path / "smoke.partial.json"
    PartialResults(path, enabled=False).get_or_run("row", lambda: 1)
    assert not path.exists()


def test_a_run_claimed_by_a_live_process_is_skipped_and_a_dead_claim_is_taken_over(tmp_path):
    import subprocess

    path = tmp_path / "bench.full.partial.json"
    live = subprocess.Popen(["sleep", "30"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        claims = path.with_suffix(".claims")
        claims.mkdir()
        (claims / "row__0").write_text(str(live.pid))
        (claims / "row__1").write_text(str(dead.pid))
        results = PartialResults(path)
        calls = []
        assert results.get_or_run("row/0", lambda: calls.append(0) or 1.0) is None
        assert results.get_or_run("row/1", lambda: calls.append(1) or 2.0) == 2.0
        assert calls == [1] and results.missing == ["row/0"]
        assert not (claims / "row__1").exists()  # released once stored
        assert json.loads(path.read_text()) == {"row/1": 2.0}
    finally:
        live.kill()


class SessionEndedError(Exception):
    """Stands for the end of a session that cuts a run off."""


def test_a_cut_off_run_finds_its_folder_again_and_a_finished_one_leaves_none(tmp_path):
    from benchmarks.partial_results import seeded_runs

    path = tmp_path / "table.full.partial.json"
    seen = []

    def run(row, seed, folder):
        seen.append(sorted(p.name for p in folder.iterdir()))
        if not (folder / "checkpoint.pt").exists():
            (folder / "checkpoint.pt").write_text("step 200")  # what a training run leaves before it is cut off
            raise SessionEndedError
        return {"acc": 0.5, "resumed_from": (folder / "checkpoint.pt").read_text()}

    with pytest.raises(SessionEndedError):
        seeded_runs(PartialResults(path), ["row"], ["row"], 1, run, str)
    folder = tmp_path / "table.full.partial.runs" / "row__0"
    assert (folder / "checkpoint.pt").exists()  # kept for the next start
    runs = seeded_runs(PartialResults(path), ["row"], ["row"], 1, run, str)
    assert runs == {"row": [{"acc": 0.5, "resumed_from": "step 200", "seed": 0}]}
    assert seen == [[], ["checkpoint.pt"]]
    assert not folder.exists()  # a finished run's folder is removed; its result is in the JSON


def test_a_plan_runs_in_its_own_order_and_a_stored_run_is_not_trained_again(tmp_path):
    from benchmarks.partial_results import planned_runs

    path = tmp_path / "table.full.partial.json"
    trained = []

    def run(row, seed, folder):
        trained.append((row, seed))
        return {"value": f"{row}{seed}"}

    plan = [("b", 0), ("a", 0), ("b", 1), ("a", 1)]  # seed by seed, rows out of alphabetical order
    planned_runs(PartialResults(path), plan[:2], run, str)  # a session that ended after two runs
    runs = planned_runs(PartialResults(path), plan, run, str)
    assert trained == [("b", 0), ("a", 0), ("b", 1), ("a", 1)]  # the stored two were not trained again
    assert list(runs) == ["b", "a"]
    assert runs["b"] == [{"value": "b0", "seed": 0}, {"value": "b1", "seed": 1}]
    assert sorted(json.loads(path.read_text())) == ["a/0", "a/1", "b/0", "b/1"]


def test_results_kept_nowhere_train_in_a_temporary_folder(tmp_path):
    partial = PartialResults(tmp_path / "smoke.partial.json", enabled=False)
    with partial.run_folder("row/0") as folder:
        assert folder.is_dir() and tmp_path not in folder.parents
    assert not folder.exists() and not (tmp_path / "smoke.partial.runs").exists()
