"""Runs are never lost or silently replaced, and broken files are one line naming them.

Each test here failed before its fix: a second process on the same folder, a refused run that
rewrote the old run's config.yaml, empty or alias-bomb configs, unusable checkpoints ending in
tracebacks, leftovers of an interrupted save, a damaged metrics.csv breaking --resume.
"""

import os
import time

import pytest
import torch

from transformrec.cli.main import main
from transformrec.runtime.run_lock import LOCK_NAME, run_lock

TINY = [
    *("--set", "data.num_samples=64", "--set", "backbone.width=0.25", "--set", "backbone.fc_dim=64"),
    *("--set", "train.epochs=1", "--set", "train.batch_size=32", "--set", "device=cpu", "--set", "progress=false"),
]


@pytest.fixture()
def config(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(f"output_dir: {tmp_path / 'run'}\ndata: {{name: upright_objects, image_size: 32}}\n")
    return path


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in err, err
    return errors[0]


def test_a_second_run_on_a_locked_folder_is_refused_and_a_dead_runs_lock_is_taken_over(config, tmp_path, capsys):
    with run_lock(tmp_path / "run"):  # another live run holds the folder (this process, for the test)
        assert main(["pretrain", str(config), *TINY]) == 2
        assert f"is in use by another run (process {os.getpid()})" in _error_line(capsys)
    assert not (tmp_path / "run" / "checkpoint.pt").exists() and not (tmp_path / "run" / "config.yaml").exists()
    (tmp_path / "run" / LOCK_NAME).write_text("999999999")  # left by a killed run: no process holds it
    assert main(["pretrain", str(config), *TINY]) == 0


def test_a_refused_run_leaves_the_existing_runs_config_as_it_was(config, tmp_path, capsys):
    assert main(["pretrain", str(config), *TINY]) == 0
    recorded = (tmp_path / "run" / "config.yaml").read_text()
    assert main(["pretrain", str(config), *TINY, "--set", "train.lr=0.123"]) == 2
    assert "already holds a run" in _error_line(capsys)
    assert (tmp_path / "run" / "config.yaml").read_text() == recorded


def test_empty_configs_alias_bombs_and_unparsable_overrides_are_one_line(tmp_path, capsys):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert main(["pretrain", str(empty)]) == 2
    assert "the config file is empty" in _error_line(capsys)
    bomb = tmp_path / "bomb.yaml"
    levels = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)
    ]
    bomb.write_text("\n".join(levels) + "\nevaluation: {options: {ks: *a8}}\n")  # 10^9 items once expanded
    started = time.perf_counter()
    assert main(["pretrain", str(bomb)]) == 2
    assert "aliases (*name) are not accepted" in _error_line(capsys) and time.perf_counter() - started < 30
    assert main(["pretrain", str(empty), "--set", "train.bilevel.k=*x"]) == 2
    assert "the config file is empty" in _error_line(capsys)
    assert main(["pretrain", str(bomb).replace("bomb", "missing")]) == 2
    _error_line(capsys)


def test_output_dir_expands_home_and_may_not_be_empty(tmp_path, capsys, monkeypatch):
    from transformrec.config.loading import load_config

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("RUNS_ROOT", str(tmp_path / "runs"))
    assert load_config(None, ["output_dir=~/a"]).output_dir == str(tmp_path / "a")
    assert load_config(None, ["output_dir=$RUNS_ROOT/b"]).output_dir == str(tmp_path / "runs" / "b")
    plain = tmp_path / "plain.yaml"
    plain.write_text("data: {name: upright_objects}\n")
    assert main(["pretrain", str(plain), "--set", "output_dir=''"]) == 2
    assert "output_dir: Value error, must name a folder" in _error_line(capsys)
    assert main(["pretrain", str(plain), "--set", "train.bilevel.k=*x"]) == 2
    assert "--set train.bilevel.k=*x: the value is not valid YAML" in _error_line(capsys)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"not a checkpoint at all", "not a readable checkpoint of this project"),
        ("list", "not a training checkpoint of this project (no 'engine' entry; found a list)"),
        ("weights", "not a training checkpoint of this project (no 'engine' entry; found keys"),
    ],
    ids=["zero-bytes", "garbage", "a-list", "backbone-weights"],
)
def test_an_unusable_checkpoint_is_one_line_naming_the_file(config, tmp_path, capsys, content, message):
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    checkpoint.parent.mkdir()
    if content == "list":
        torch.save([1, 2, 3], checkpoint)
    elif content == "weights":
        torch.save({"conv1.weight": torch.zeros(1)}, checkpoint)
    else:
        checkpoint.write_bytes(content)
    assert main(["pretrain", str(config), *TINY, "--resume"]) == 2
    line = _error_line(capsys)
    assert str(checkpoint) in line and message in line
    with_lci = ["--set", "transforms=[identity, lci]"]
    assert main(["show", str(config), *TINY, "--checkpoint", str(checkpoint), *with_lci]) == 2
    assert str(checkpoint) in _error_line(capsys)


def test_leftovers_of_an_interrupted_save_go_and_a_damaged_log_does_not_stop_a_resume(config, tmp_path, capsys):
    assert main(["pretrain", str(config), *TINY, "--set", "train.max_steps=1"]) == 0
    leftover = tmp_path / "run" / ".checkpoint.pt.abc123.tmp"
    leftover.write_bytes(b"half a checkpoint")
    (tmp_path / "run" / "metrics.csv").write_bytes(b"step,loss\n1,0.5\n\x00\x00garbage,\n2")
    assert main(["pretrain", str(config), *TINY, "--resume"]) == 0
    assert not leftover.exists()
    assert (tmp_path / "run" / "metrics.csv.damaged").exists() and (tmp_path / "run" / "metrics.csv").exists()


def test_make_multiview_writes_only_inside_its_root(tmp_path, capsys):
    root = tmp_path / "deep" / "studio"
    assert main(["make-multiview", str(root), "--subjects", "../../escaped", "--frames", "4", "--size", "16"]) == 2
    assert "subject '../../escaped' must be a plain folder name" in _error_line(capsys)
    assert not (tmp_path / "escaped").exists() and not root.exists()
    assert main(["make-multiview", str(root), "--actions", "dance", "--frames", "4", "--size", "16"]) == 2
    assert "unknown action(s) dance" in _error_line(capsys)
    assert main(["make-multiview", str(root), "--size", "0"]) == 2
    assert "size must be at least 8 pixels" in _error_line(capsys)


def test_ctrl_c_during_demos_evaluation_is_one_line_and_demo_resumes(config, tmp_path, capsys, monkeypatch):
    from transformrec import experiment

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    small = "{name: upright_objects, num_samples: 40, image_size: 32}"
    evaluation = f"evaluation={{protocol: knn, labels_per_class: null, train_data: {small}, test_data: {small}}}"
    quick = [*TINY, "--set", evaluation, "--set", "evaluation.options={ks: [1]}"]
    with monkeypatch.context() as patched:
        patched.setattr(experiment, "evaluate", interrupted)
        assert main(["demo", str(config), *quick]) == 130
    assert _error_line(capsys) == "error: interrupted by Ctrl-C during demo (continue with --resume)"
    assert main(["demo", str(config), *quick, "--resume"]) == 0  # the pretraining is done: straight to eval
    assert "results (" in capsys.readouterr().out


def test_an_lci_patch_that_does_not_fit_the_images_is_refused_before_training(config, tmp_path, capsys):
    big = ["--set", "transforms=[identity, {name: lci, width: 4, patch_size: 40}]"]
    assert main(["pretrain", str(config), *TINY, *big]) == 2
    assert "transforms[1] (lci) on 32×32 images: patch_size 40 gives a 40px patch" in _error_line(capsys)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()
    no_centre = ["--set", "transforms=[identity, {name: lci, width: 4, patch_size: 6, border: 3}]"]
    assert main(["pretrain", str(config), *TINY, *no_centre]) == 2
    assert "a 3px border leaves no centre in the 6px patch" in _error_line(capsys)
