"""The command line end to end on a tiny upright_objects run: pretrain, eval, show, list, errors."""

import json

import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from transformrec.cli.main import main

TINY = [
    "--set",
    "data.num_samples=128",
    "--set",
    "backbone.width=0.25",
    "--set",
    "backbone.fc_dim=64",
    "--set",
    "train.epochs=1",
    "--set",
    "train.batch_size=32",
    "--set",
    "device=cpu",
]


@pytest.fixture()
def tiny_config(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(
        f"output_dir: {tmp_path / 'run'}\n"
        "data: {name: upright_objects, image_size: 32}\n"
        "evaluation:\n  protocol: knn\n  labels_per_class: null\n  options: {ks: [1, 3]}\n"
        "  train_data: {name: upright_objects, num_samples: 60, image_size: 32}\n"
        "  test_data: {name: upright_objects, num_samples: 40, image_size: 32, split: test}\n"
    )
    return path


def test_pretrain_then_eval_with_random_baseline(tiny_config, tmp_path, capsys):
    assert main(["pretrain", str(tiny_config), *TINY]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["heads"]["transform"][-1] == "warp"
    board = EventAccumulator(str(tmp_path / "run" / "tensorboard")).Reload()
    assert "transforms" in board.Tags()["images"] and board.Images("transforms")[-1].step == 4
    assert (tmp_path / "run" / "transforms.png").is_file()
    assert main(["eval", str(tiny_config), *TINY]) == 0
    results = json.loads((tmp_path / "run" / "eval_knn.json").read_text())
    assert set(results) >= {"pretrained", "random", "gain"}
    k = results["pretrained"]["best_k"]
    expected = {
        tap: 100 * (results["pretrained"]["per_tap"][tap]["test_acc"][str(k)] - values["test_acc"][str(k)])
        for tap, values in results["random"]["per_tap"].items()
    }
    assert results["gain"]["points_per_tap"] == expected and results["gain"]["k"] == k  # per tap, at one k
    out = capsys.readouterr().out
    assert "pretrained: best test accuracy" in out and f"gain (k = {k}): best layer" in out and "conv5=" in out
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard" / "eval_knn")).Reload()
    gain = events.Scalars("eval/knn/gain_points/conv5")
    assert [(e.step, round(e.value, 4)) for e in gain] == [(4, round(expected["conv5"], 4))]  # at the last step
    random = events.Scalars("eval/knn/random/conv5")[0].value
    assert random == pytest.approx(results["random"]["per_tap"]["conv5"]["test_acc"][str(k)])


def test_demo_monitors_learning_and_a_config_monitor_is_logged(tiny_config, tmp_path, capsys):
    assert main(["demo", str(tiny_config), *TINY]) == 0  # no monitor in the config: the demo adds one
    out = capsys.readouterr().out
    assert "online monitor (accuracy % on the monitor set, by step):" in out
    assert "knn/fc7  4: " in out and "linear/fc7  4: " in out  # the last step, the backbone's last tap
    every = ["--set", "monitor={data: {name: upright_objects, num_samples: 40, image_size: 32}, every: 2, k: 5}"]
    config = [*TINY, "--set", f"output_dir={tmp_path / 'monitored'}", *every, "--set", "monitor.taps=[conv5]"]
    assert main(["pretrain", str(tiny_config), *config]) == 0
    summary = json.loads((tmp_path / "monitored" / "summary.json").read_text())
    assert [row["step"] for row in summary["monitor"]] == [2, 4] and "monitor/knn/conv5" in summary["monitor"][0]
    assert main(["pretrain", str(tiny_config), *config, "--overwrite", "--set", "monitor.taps=[conv9]"]) == 2
    assert "monitor.taps: conv9 not among the backbone's" in capsys.readouterr().err


def test_show_writes_one_row_per_image_and_one_column_per_class(tiny_config, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["show", str(tiny_config), "--out", str(out), "--num-images", "3", *TINY]) == 0
    assert "3 rows × columns identity, rot90, rot180, rot270, warp" in capsys.readouterr().out
    width, height = Image.open(out).size
    assert width >= 5 * 100 and height >= 3 * 100  # a labelled figure, not a strip of 32 px tiles
    assert "learned transforms loaded" not in capsys.readouterr().out


def test_bad_config_exits_with_code_2_and_names_the_field(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("train: {batch_size: 0}\n")
    assert main(["pretrain", str(path)]) == 2
    assert "train.batch_size" in capsys.readouterr().err


def test_eval_without_pretrained_weights_is_a_clear_error(tiny_config, capsys):
    assert main(["eval", str(tiny_config), *TINY]) == 2
    assert "run `transformrec pretrain` first" in capsys.readouterr().err


def test_list_shows_every_registry(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    transforms_line = next(line for line in out.splitlines() if line.startswith("transforms:"))
    assert {"identity", "rotation", "warp", "lci"} <= set(transforms_line.split(": ")[1].split(", "))
    assert "alexnet_bn" in out and "linear_probe" in out


def test_show_loads_a_trained_lci_inpainter_from_the_run_checkpoint(tiny_config, tmp_path, capsys):
    lci = ["--set", "transforms=[identity, {name: lci, width: 4}]", "--set", "train.max_steps=2"]
    assert main(["pretrain", str(tiny_config), *TINY, *lci]) == 0
    out = tmp_path / "lci.png"
    assert main(["show", str(tiny_config), "--out", str(out), "--num-images", "2", *TINY, *lci]) == 0
    printed = capsys.readouterr().out
    assert f"learned transforms loaded from {tmp_path / 'run' / 'checkpoint.pt'}" in printed
    assert "2 rows × columns identity, lci" in printed and Image.open(out).size[0] >= 2 * 100


def test_audit_prints_a_table_and_writes_json(tiny_config, tmp_path, capsys):
    out = tmp_path / "audit.json"
    args = ["--num-images", "32", "--steps", "20", "--out", str(out)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the probes take many tiny steps, which intra-op threads slow down
    try:
        assert main(["audit", str(tiny_config), "--set", "device=cpu", *args]) == 0
    finally:
        torch.set_num_threads(threads)
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["classes"] == ["identity", "rot90", "rot180", "rot270", "warp"]
    assert report["patch_size"] == 8 and len(report["local_confusion"]) == 5
    assert "local acc" in printed and "pairwise separability" in printed
    assert (tmp_path / "audit.png").stat().st_size > 10_000 and "audit.png" in printed


def test_make_videos_then_temporal_pretraining_and_video_evaluation(tmp_path, capsys):
    root = tmp_path / "videos"
    assert main(["make-videos", str(root), "--num", "10", "--frames", "40", "--size", "16", "--sprites", "shapes"]) == 0
    assert len(list(root.glob("*/train_*.mp4"))) == 10 and len(list(root.glob("*/test_*.mp4"))) == 10
    config = tmp_path / "video.yaml"
    config.write_text(
        f"output_dir: {tmp_path / 'run'}\n"
        f"data: {{name: video_folder, root: {root}, split: train}}\n"
        "backbone: {name: c3d_small, width: 0.125}\n"
        "transforms: [speed, random_order, periodic, temporal_warp]\n"
        "train: {epochs: 1, batch_size: 5, betas: [0.9, 0.99], augment: {padding: 1, hflip: true}}\n"
        "evaluation:\n  protocol: video_retrieval\n  options: {crops: 2, ks: [1, 3]}\n"
        f"  train_data: {{name: video_folder, root: {root}, split: train}}\n"
        f"  test_data: {{name: video_folder, root: {root}, split: test}}\n"
    )
    assert main(["demo", str(config), "--set", "device=cpu"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["steps"] == 2 and summary["heads"]["speed"] == ["speed0", "speed1", "speed2", "speed3"]
    results = json.loads((tmp_path / "run" / "eval_video_retrieval.json").read_text())
    assert set(results["pretrained"]["top_k"]) == {"1", "3"} and "random" in results


def test_gan_trains_writes_a_png_grid_and_resumes(tmp_path, capsys):
    out = tmp_path / "gan"
    sets = [
        f"output_dir={out}",
        "width=0.125",
        "batch_size=8",
        "train_images=128",
        "steps=2",
        "sample_every=2",
        "eval.extractor=none",
    ]
    args = ["gan", "configs/ch7_dfgan_fashion_mnist.yaml"] + [a for s in sets for a in ("--set", s)]
    assert main(args) == 0
    assert "trained 2 generator steps" in capsys.readouterr().out
    with Image.open(out / "samples_0000002.png") as grid:
        assert grid.size == (8 * 34 + 2, 8 * 34 + 2)  # 8×8 images of 32 px with 2 px padding
    assert main([*args, "--set", "steps=3", "--resume"]) == 0
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 3


def test_gan_bad_config_exits_with_code_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("n_disc: 0\n")
    assert main(["gan", str(bad)]) == 2
    assert f"{bad}: n_disc:" in capsys.readouterr().err


def test_pretrain_and_show_damage_repair_from_the_command_line(tiny_config, tmp_path, capsys):
    dr = ["--set", "transforms=[{name: damage_repair, width: 4, drop_rate: 0.5, pretrain_steps: 2}]"]
    assert main(["pretrain", str(tiny_config), *TINY, *dr]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["heads"] == {"transform": ["real", "damaged"]} and "loss/mask" in summary["final_metrics"]
    out = tmp_path / "grid.png"
    assert main(["show", str(tiny_config), "--out", str(out), "--num-images", "2", *TINY, *dr]) == 0
    assert "2 rows × columns real, damaged" in capsys.readouterr().out


def test_gain_line_reports_best_layer_and_per_layer_points_for_probes_and_knn(capsys):
    from transformrec.cli.main import _print_evaluation
    from transformrec.experiment import accuracy_gain

    results = {
        "protocol": "linear_probe",
        "path": "eval.json",
        "pretrained": {"per_tap": {"conv1": {"test_acc": 0.30}, "conv5": {"test_acc": 0.55}}},
        "random": {"per_tap": {"conv1": {"test_acc": 0.25}, "conv5": {"test_acc": 0.20}}},
    }
    results["gain"] = accuracy_gain(results)
    _print_evaluation(results)
    line = capsys.readouterr().out.splitlines()[-1]
    assert "gain: best layer +30.0 points (pretrained conv5 55.0% vs random conv1 25.0%)" in line
    assert "conv1 +5.0  conv5 +35.0" in line
    knn = {  # per-k accuracies: compared at the pretrained backbone's best k
        "pretrained": {"best_k": 5, "per_tap": {"fc7": {"test_acc": {"1": 0.5, "5": 0.6}}}},
        "random": {"per_tap": {"fc7": {"test_acc": {"1": 0.45, "5": 0.2}}}},
    }
    gain = accuracy_gain(knn)
    assert gain["k"] == 5 and gain["points_per_tap"]["fc7"] == pytest.approx(40.0)
    assert accuracy_gain({"pretrained": knn["pretrained"]}) is None  # no baseline, no gain


def test_a_gan_config_given_to_pretrain_is_refused_in_one_line_naming_the_command(capsys):
    assert main(["pretrain", "configs/ch7_dfgan_fashion_mnist.yaml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "run it with `transformrec gan`" in err


def test_gan_on_the_embedded_image_set_from_the_command_line(tmp_path, capsys):
    sets = [f"output_dir={tmp_path / 'gan'}", "data.name=upright_objects", "data.params.num_samples=64"]
    sets += ["width=0.125", "batch_size=8", "steps=2", "sample_every=2", "eval.extractor=none", "device=cpu"]
    assert main(["gan", "configs/ch7_dfgan_fashion_mnist.yaml"] + [a for s in sets for a in ("--set", s)]) == 0
    assert "trained 2 generator steps" in capsys.readouterr().out
    assert json.loads((tmp_path / "gan" / "summary.json").read_text())["data"] == "upright_objects"


def test_gan_on_an_image_folder_from_the_command_line(tmp_path, capsys):
    # 40 px files in class folders, resized to the config's 32 px by the image folder itself.
    generator = torch.Generator().manual_seed(0)
    for kind in ("cats", "dogs"):
        (tmp_path / "images" / kind).mkdir(parents=True)
        for i in range(8):
            pixels = (torch.rand(40, 40, 3, generator=generator) * 255).to(torch.uint8).numpy()
            Image.fromarray(pixels).save(tmp_path / "images" / kind / f"{i}.png")
    sets = [f"output_dir={tmp_path / 'gan'}", "data={name: image_folder, root: " + str(tmp_path / "images") + "}"]
    sets += ["width=0.125", "batch_size=8", "steps=2", "sample_every=2", "eval.extractor=none", "device=cpu"]
    assert main(["gan", "configs/ch7_dfgan_fashion_mnist.yaml"] + [a for s in sets for a in ("--set", s)]) == 0
    assert "trained 2 generator steps" in capsys.readouterr().out
    summary = json.loads((tmp_path / "gan" / "summary.json").read_text())
    assert summary["data"] == "image_folder" and (tmp_path / "gan" / "samples_0000002.png").is_file()


def test_audit_audits_the_trained_lci_of_the_run_checkpoint(tiny_config, tmp_path, capsys, monkeypatch):
    import transformrec.audit as audit_package
    from transformrec.training.checkpoint import load_checkpoint

    lci = ["--set", "transforms=[identity, {name: lci, width: 4}]", "--set", "train.max_steps=2"]
    assert main(["pretrain", str(tiny_config), *TINY, *lci]) == 0
    audited = {}

    def capture(transform_set, data, **kwargs):
        audited["inpainter"] = transform_set.learned_transforms[0].inpainter.state_dict()
        raise SystemExit(0)  # the probes themselves are tested above

    monkeypatch.setattr(audit_package, "audit_transform_set", capture)
    with pytest.raises(SystemExit):
        main(["audit", str(tiny_config), *TINY, *lci])
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    assert f"learned transforms loaded from {checkpoint}" in capsys.readouterr().out
    trained = load_checkpoint(checkpoint)["learned"][0]
    inpainter = {k[len("inpainter.") :]: v for k, v in trained["module"].items() if k.startswith("inpainter.")}
    assert inpainter and all(torch.equal(audited["inpainter"][k], v) for k, v in inpainter.items())
