"""What a user meets at the command line: runs are never silently lost, and errors are one line naming the field."""

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from transformrec.cli.main import main

REPO = Path(__file__).resolve().parents[2]
TINY = [
    *("--set", "data.num_samples=64", "--set", "backbone.width=0.25", "--set", "backbone.fc_dim=64"),
    *("--set", "train.epochs=1", "--set", "train.batch_size=32", "--set", "device=cpu"),
]


@pytest.fixture()
def config(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(
        f"output_dir: {tmp_path / 'run'}\n"
        "data: {name: upright_objects, image_size: 32}\n"
        "evaluation:\n  protocol: knn\n  labels_per_class: null\n  options: {ks: [1]}\n"
        "  train_data: {name: upright_objects, num_samples: 40, image_size: 32}\n"
        "  test_data: {name: upright_objects, num_samples: 20, image_size: 32, split: test}\n"
    )
    return path


def _one_line_error(capsys) -> str:
    """The one ``error:`` line on stderr; besides it only progress-bar output (no traceback)."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert all(line in errors or "it/s" in line or "?it" in line for line in lines), err
    return errors[0]


def test_a_finished_run_is_refused_without_resume_and_replaced_with_overwrite(config, tmp_path, capsys):
    assert main(["pretrain", str(config), *TINY]) == 0
    before = (tmp_path / "run" / "checkpoint.pt").stat().st_mtime_ns
    assert main(["pretrain", str(config), *TINY]) == 2
    err = _one_line_error(capsys)
    assert "already holds a run" in err and "--resume" in err and "--overwrite" in err
    assert (tmp_path / "run" / "checkpoint.pt").stat().st_mtime_ns == before  # nothing was touched
    assert main(["pretrain", str(config), *TINY, "--overwrite"]) == 0
    assert (tmp_path / "run" / "checkpoint.pt").stat().st_mtime_ns != before


def test_resume_without_a_checkpoint_says_so(config, caplog):
    with caplog.at_level(logging.WARNING):
        assert main(["pretrain", str(config), *TINY, "--resume"]) == 0
    assert any(
        "no checkpoint at" in r.getMessage() and "starting from scratch" in r.getMessage() for r in caplog.records
    )


def test_resume_of_a_finished_run_keeps_its_summary_and_names_changed_settings(config, tmp_path, caplog):
    assert main(["pretrain", str(config), *TINY]) == 0
    first = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert first["final_metrics"]
    with caplog.at_level(logging.WARNING):
        assert main(["pretrain", str(config), *TINY, "--resume", "--set", "train.lr=0.001", "--set", "seed=3"]) == 0
    again = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert again["final_metrics"] == first["final_metrics"] and again["steps"] == first["steps"]
    changed = [r.getMessage() for r in caplog.records if "differ from its checkpoint" in r.getMessage()]
    assert len(changed) == 1 and "lr: 0.0003 -> 0.001" in changed[0] and "seed: 0 -> 3" in changed[0]


def test_sigint_saves_a_checkpoint_and_exits_with_one_line_then_resume_finishes(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(
        f"output_dir: {tmp_path / 'run'}\ndevice: cpu\n"
        "data: {name: upright_objects, image_size: 32, num_samples: 512}\n"
        "backbone: {name: alexnet_bn, width: 0.25, fc_dim: 64}\n"
        "train: {epochs: 3, batch_size: 16, checkpoint_every: 1000, log_every: 1}\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "transformrec.cli.main", "pretrain", str(path)]
    run = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    metrics, deadline = tmp_path / "run" / "metrics.csv", time.monotonic() + 120
    while not (metrics.exists() and len(metrics.read_text().splitlines()) > 4):
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130
    lines = [line for line in err.strip().splitlines() if not line.startswith("pretrain:")]  # the progress bar
    assert len(lines) == 1 and "interrupted by SIGINT after step" in lines[0] and "checkpoint saved to" in lines[0]
    stopped_at = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"]
    assert 3 <= stopped_at < 96  # the periodic checkpoint would only come at step 1000
    resumed = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["resumed_from_step"] == stopped_at and summary["steps"] == 96


POISON_MODULE = """
from transformrec.transforms import Identity, register_transform


@register_transform("poison")
class Poison(Identity):
    def variant_names(self):
        return ("poisoned",)

    def apply(self, batch, variant, generator=None):
        return batch * float("nan"), {}
"""


def test_import_registers_user_transforms_for_yaml_and_the_nan_stop_is_one_line(config, tmp_path, capsys, monkeypatch):
    (tmp_path / "my_transforms.py").write_text(POISON_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    poisoned = [*TINY, "--set", "data.num_samples=512", "--set", "transforms=[poison, rotation]"]
    assert main(["pretrain", str(config), "--import", "my_transforms", *poisoned]) == 2
    assert "loss was not finite for 10 consecutive steps" in _one_line_error(capsys)
    assert main(["pretrain", str(config), "--import", "no_such_module_here", *TINY]) == 2
    assert "--import no_such_module_here" in _one_line_error(capsys)


FLIP_MODULE = """
from transformrec.transforms import Transform, register_transform


@register_transform("upside_down")
class UpsideDown(Transform):
    def variant_names(self):
        return ("upside_down",)

    def apply(self, batch, variant, generator=None):
        return batch.flip(-2), {}
"""


def test_import_finds_a_module_in_the_working_directory_without_pythonpath(config, tmp_path):
    (tmp_path / "user_transforms.py").write_text(FLIP_MODULE)
    command = Path(sys.executable).with_name("transformrec")  # the console script: sys.path[0] is its bin folder
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    mine = ["--set", "transforms=[identity, upside_down]", "--set", "progress=false"]
    done = subprocess.run(
        [str(command), "pretrain", str(config), "--import", "user_transforms", *TINY, *mine],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["heads"]["transform"] == [
        "identity",
        "upside_down",
    ]


def test_import_of_a_python_file_path_and_its_failures_are_one_line(config, tmp_path, capsys):
    path = tmp_path / "file_transforms.py"
    path.write_text(FLIP_MODULE.replace("upside_down", "upside_down_from_file"))
    mine = ["--set", "transforms=[identity, upside_down_from_file]", "--set", "progress=false"]
    assert main(["pretrain", str(config), "--import", str(path), *TINY, *mine]) == 0
    broken = tmp_path / "broken.py"
    broken.write_text("def oops(:\n")
    assert main(["pretrain", str(config), "--import", str(broken), *TINY]) == 2
    assert f"--import {broken}: SyntaxError" in _one_line_error(capsys)
    assert main(["pretrain", str(config), "--import", str(tmp_path / "missing.py"), *TINY]) == 2
    assert "missing.py: no such file" in _one_line_error(capsys)


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        (["transforms=[identity, {name: warp, order: 0}]"], "transforms[1] (warp): warp order must be >= 1"),
        (["data.image_size=-4"], "data (upright_objects): image_size must be in [8, 512], got -4"),
        (["data.image_size=100000"], "data (upright_objects): image_size must be in [8, 512], got 100000"),
        (["backbone.width=0"], "backbone (alexnet_bn): width must be positive"),
        (["data.num_samples=0"], "data (upright_objects): the data set is empty"),
        (["transforms.5.name=rotation"], "transforms is a list of 3 items; 5 is not an index of it"),
        (["train.batch_size=128"], "data (upright_objects): 64 items, fewer than the 128 one step uses"),
    ],
)
def test_bad_values_found_when_building_are_one_line_naming_the_field(config, capsys, overrides, names):
    assert main(["pretrain", str(config), *TINY, *[a for o in overrides for a in ("--set", o)]]) == 2
    assert names in _one_line_error(capsys)


def test_batch_not_divisible_by_torchrun_processes_is_one_line(config, capsys, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")
    assert main(["pretrain", str(config), *TINY]) == 2
    assert "train.batch_size: 32 is not divisible by the 3 torchrun processes" in _one_line_error(capsys)


def test_weights_of_another_width_and_too_many_labels_per_class_are_one_line(config, capsys):
    assert main(["pretrain", str(config), *TINY]) == 0
    capsys.readouterr()
    assert main(["eval", str(config), *TINY, "--set", "backbone.width=0.5"]) == 2
    err = _one_line_error(capsys)
    assert "backbone.pt: does not fit backbone alexnet_bn as configured (size mismatch for" in err
    probe = ["--set", "evaluation.protocol=linear_probe", "--set", "evaluation.options={epochs: 1}"]
    assert main(["eval", str(config), *TINY, *probe]) == 0
    capsys.readouterr()
    too_many = [*probe, "--set", "evaluation.labels_per_class=1000"]
    assert main(["eval", str(config), *TINY, *too_many]) == 2
    assert "evaluation (linear_probe): class" in _one_line_error(capsys)


def test_an_output_folder_that_cannot_be_written_is_one_line_naming_it(config, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main(["pretrain", str(config), *TINY, "--set", f"output_dir={blocker / 'run'}"]) == 2
    assert str(blocker) in _one_line_error(capsys)


def test_verbose_shows_the_traceback_instead(config):
    with pytest.raises(Exception, match="width must be positive"):
        main(["-v", "pretrain", str(config), *TINY, "--set", "backbone.width=0"])


def test_threads_setting_sets_torch_intra_op_threads(config):
    before = torch.get_num_threads()
    try:
        assert main(["list"]) == 0
        assert main(["pretrain", str(config), *TINY, "--set", "threads=1", "--set", "train.max_steps=1"]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["audit", "--help"])
    assert "(default: 512)" in capsys.readouterr().out


def test_an_option_the_evaluation_protocol_does_not_take_fails_at_load_time(config, capsys):
    assert main(["eval", str(config), *TINY, "--set", "evaluation.protocol=linear_probe"]) == 2
    err = capsys.readouterr().err
    assert "evaluation: Value error, evaluation 'linear_probe' has no option ks; accepted: taps" in err


def test_progress_is_plain_lines_in_a_log_by_default_and_off_on_request(config, tmp_path, capsys):
    assert main(["pretrain", str(config), *TINY]) == 0  # stderr is not a terminal here: lines, no bar
    err = capsys.readouterr().err
    last_line = r"^pretrain: (\d+)/\1 \(100\.0 %\) loss \d\.\d{3} acc/transform \d\.\d{3} img/s \d+ \| "
    assert re.search(last_line, err, re.M), err
    assert "\r" not in err  # no carriage-return bar in the log
    off = [*TINY, "--set", "progress=false", "--set", f"output_dir={tmp_path / 'quiet'}"]
    assert main(["pretrain", str(config), *off]) == 0
    assert "pretrain:" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["show", "CONFIG", "--num-images", "0"], "argument --num-images: must be at least 1, got 0"),
        (["show", "CONFIG", "--num-images", "-3"], "argument --num-images: must be at least 1, got -3"),
        (["show", "CONFIG", "--out", "figure.xyz"], "not a picture format matplotlib writes"),
        (["audit", "CONFIG", "--num-images", "0"], "argument --num-images: must be at least 4, got 0"),
        (["audit", "CONFIG", "--steps", "0"], "argument --steps: must be at least 1, got 0"),
        (["audit", "CONFIG", "--patch-size", "1000"], "audit: --patch-size 1000 is larger than the images (32 px)"),
        (["make-videos", "OUT", "--size", "7"], "argument --size: must be at least 8, got 7"),
        (["make-videos", "OUT", "--size", "9", "--num", "1"], "make-videos: --size must be even for H.264, got 9"),
        (["make-multiview", "OUT", "--frames", "0"], "argument --frames: must be at least 1, got 0"),
    ],
)
def test_subcommand_sizes_are_refused_in_one_line_before_any_work(config, tmp_path, capsys, arguments, message):
    """Each of these was a traceback (or 61 rows for -3) before the arguments were checked."""
    out = tmp_path / "out"
    arguments = [str(config) if a == "CONFIG" else str(out) if a == "OUT" else a for a in arguments]
    assert _exit_code(arguments) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "run").exists()  # nothing written


def _exit_code(arguments: list[str]) -> int:
    """``main``'s exit code; argparse refuses a bad argument by raising SystemExit(2)."""
    try:
        return main(arguments)
    except SystemExit as exit_:
        return int(exit_.code)


def test_show_into_a_folder_writes_inside_it(config, tmp_path, capsys):
    folder = tmp_path / "pictures"
    folder.mkdir()
    assert main(["show", str(config), "--out", str(folder), "--num-images", "2", *TINY]) == 0
    assert (folder / "transforms.png").is_file() and str(folder / "transforms.png") in capsys.readouterr().out
