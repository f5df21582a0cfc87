"""Every benchmark of `python -m benchmarks` runs end to end in its reduced "smoke" suite.

The numbers of a smoke run mean nothing; this checks that each table can be regenerated (data,
training, evaluation and rendering code paths) and that nothing is written without being asked.
"""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.__main__ import BENCHMARKS  # noqa: E402


def _fingerprint() -> dict[str, str]:
    files = [REPO / "benchmarks" / "RESULTS.md", *sorted((REPO / "benchmarks" / "results").glob("*"))]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_benchmark_smoke_suite_runs_and_renders_without_writing(name):
    before = _fingerprint()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--suite", "smoke", "--only", name, "--no-write"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"running {name} (smoke)" in done.stdout and "|" in done.stdout  # a markdown table was rendered
    assert _fingerprint() == before


def test_a_smoke_run_never_replaces_stored_full_suite_results(tmp_path, monkeypatch):
    import json

    import benchmarks.__main__ as runner

    monkeypatch.setattr(runner, "RESULTS_DIR", tmp_path)
    full = {"suite": "full", "result": {"accuracy": 0.9}}
    (tmp_path / "demo.json").write_text(json.dumps(full))
    kept = runner.store_result("demo", "smoke", {"suite": "smoke", "result": {"accuracy": 0.1}})
    assert kept == tmp_path / "demo.smoke.json" and json.loads((tmp_path / "demo.json").read_text()) == full
    assert runner.store_result("demo", "full", {"suite": "full", "result": {"accuracy": 0.8}}) == tmp_path / "demo.json"
    assert runner.store_result("demo", "quick", {"suite": "quick"}, replace=True) == tmp_path / "demo.json"
    assert json.loads((tmp_path / "demo.json").read_text())["suite"] == "quick"


def test_finished_only_trains_nothing_and_lists_the_missing_runs(monkeypatch):
    from benchmarks import bilevel_noise, dfgan

    def refuse(*args, **kwargs):
        raise AssertionError("finished_only must not train")

    monkeypatch.setattr(bilevel_noise, "_train", refuse)
    monkeypatch.setattr(dfgan, "_train", refuse)
    monkeypatch.setattr(dfgan, "_time_steps", refuse)
    result = bilevel_noise.run("smoke", finished_only=True)  # smoke keeps no partial results: all missing
    assert result["runs"] == {} and result["missing"] == [
        "0.5/sgd/0",
        "0.5/bilevel/0",
        "0.5/sgd_kb/0",
        "0.5/bilevel_over_lr/0",
    ]
    result = dfgan.run("smoke", finished_only=True)
    assert result["table_71"] == {} and result["table_74"] == [] and result["ema"] == []
    assert len(result["missing"]) == 1 + 2 + 2 + 1  # ema, table 7.1, table 7.4, timing
    assert "Not run yet (6 runs;" in dfgan.to_markdown(result)


def test_finished_only_passes_seeds_only_to_benchmarks_that_take_them():
    import types

    from benchmarks.__main__ import run_benchmark

    calls = []
    seeded = types.SimpleNamespace(run=lambda suite, seeds=None, finished_only=False: calls.append(seeds) or {})
    single = types.SimpleNamespace(run=lambda suite, finished_only=False: calls.append(finished_only) or {})
    run_benchmark(seeded, "full", 3, finished_only=True)
    run_benchmark(single, "full", None, finished_only=True)
    assert calls == [3, True]


def test_chapter_3_gates_measure_autoencoder_psnr_and_the_share_of_undamaged_damaged_images():
    import math

    import torch

    from benchmarks.damage_repair import chapter_3_gates
    from transformrec.transforms import build_transform

    transform = build_transform("damage_repair", channels=1, width=4, drop_rate=0.3)
    images = torch.rand(8, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    gates = chapter_3_gates(transform, images, draws=20000)
    assert gates["grid"] == [4, 4]
    assert abs(gates["no_drop_share"] - 0.7**16) < 0.002  # closed form (1 − θ)^(M·N) = 0.33 %
    mse = float((transform.autoencode(images).clamp(0, 1) - images).pow(2).mean())
    assert math.isclose(gates["psnr_db"], 10 * math.log10(1 / mse), rel_tol=1e-6)


def test_table_3_1_runs_both_sides_of_the_first_claim_seed_by_seed_before_the_second_claims_row():
    from benchmarks.damage_repair import BASELINE, SUITES, TABLE_3_1, _run_order

    order = _run_order({**SUITES["full"], "seeds": 3})
    a, random = "(a) Input image as real", "Random init"
    assert order[:6] == [(row, seed) for seed in range(3) for row in (random, BASELINE)]
    assert order[6:9] == [(a, seed) for seed in range(3)]
    single_seed = [row for row in TABLE_3_1 if row not in (random, BASELINE, a)]
    assert order[9:] == [(row, 0) for row in single_seed]  # every ablation once, none before a seeded pair


def test_lci_tables_run_everything_on_upright_objects_before_the_second_data_set():
    from benchmarks.lci_tables import (
        ALL_SEEDED,
        SEEDED,
        SEEDED_FOLLOW_UP,
        SHORTCUT_ROW,
        SINGLE_SEED_FIRST,
        SUITES,
        TABLE_4_1,
        _run_order,
    )

    cfg = SUITES["full"]
    order = _run_order(cfg, ["upright_objects", "fashion_mnist"])
    assert len(order) == len(set(order))
    seeded = [("upright_objects", "4.2", row) for row in (*SEEDED, *SEEDED_FOLLOW_UP)]
    assert order[: len(seeded)] == seeded
    single = [("upright_objects", "4.2", row) for row in cfg["rows"] if row not in ALL_SEEDED]
    block = order[len(seeded) : len(seeded) + len(single)]
    assert sorted(block) == sorted(single)  # they read the seeded rows
    first = [row for row in SINGLE_SEED_FIRST if row not in ALL_SEEDED]  # a row that became seeded runs above
    assert [row for _, _, row in block[: len(first)]] == first
    start = len(seeded) + len(single)
    table_4_1 = order[start : start + len(TABLE_4_1)]
    assert {row for _, table, row in table_4_1 if table == "4.1"} == set(TABLE_4_1)
    assert table_4_1[-1] == ("upright_objects", "4.1", SHORTCUT_ROW)  # the thesis's ablations first
    second_set = [i for i, (dataset, _, _) in enumerate(order) if dataset == "fashion_mnist"]
    assert min(second_set) == start + len(TABLE_4_1)
    assert order[min(second_set)] == ("fashion_mnist", "4.2", "Random")


def test_table_3_1_transfer_keeps_every_conv_layer_fixed_and_trains_the_fully_connected_part():
    from benchmarks.damage_repair import CONFIG, SUITES, _fc_transfer
    from transformrec.config.build import build_data
    from transformrec.config.loading import load_config
    from transformrec.eval.finetune import freeze_modules
    from transformrec.experiment import load_backbone

    config = load_config(CONFIG, _fc_transfer(SUITES["full"]))
    assert config.evaluation.protocol == "finetune" and config.evaluation.options["epochs"] == 30
    backbone = load_backbone(config, None, build_data(config.evaluation.test_data))
    freeze_modules(backbone, config.evaluation.options["freeze"])
    trainable = {name.split(".")[1] for name, p in backbone.named_parameters() if p.requires_grad}
    frozen = {name.split(".")[1] for name, p in backbone.named_parameters() if not p.requires_grad}
    assert frozen == {"conv1", "conv2", "conv3", "conv4", "conv5"} and trainable == {"fc6"}


def test_a_fixed_step_run_gets_the_epochs_whose_schedule_ends_with_it():
    from benchmarks.pretext_runs import fixed_step_config

    config = fixed_step_config(REPO / "configs" / "quickstart.yaml", ["data.num_samples=1000"], 100)
    assert config.train.max_steps == 100 and config.train.epochs == 7  # 15 steps per epoch of 64 images


def test_the_table_7_4_failure_rule_uses_fid_only_on_the_baselines_extractor():
    from benchmarks.dfgan import _failed

    assert _failed({"key": "a", "fid": 100.0, "is": 3.0}, 30.0)  # FID above 3 × 30
    assert not _failed({"key": "a", "fid": 80.0, "is": 3.0}, 30.0)
    assert _failed({"key": "a", "fid": 10.0, "is": 1.2}, 30.0)  # collapsed: IS below 1.5
    assert not _failed({"key": "dcgan64", "fid": 500.0, "is": 3.0}, 30.0)  # another extractor: IS only
    assert _failed({"key": "dcgan64", "fid": 5.0, "is": 1.1}, 30.0)


def test_the_thread_count_of_a_table_comes_from_its_runs_and_unrecorded_runs_are_counted_apart():
    from benchmarks.environment import threads_sentence

    assert threads_sentence([1, None, 1, 2]) == (
        "Torch threads per run: 1, 2; not recorded by 1 of 4 runs (stored before they kept it)."
    )
    unrecorded = "Torch threads per run: not recorded by 1 of 1 runs (stored before they kept it)."
    assert threads_sentence([None]) == unrecorded
    assert threads_sentence([1, 1]) == "Torch threads per run: 1."


def test_threads_sets_the_benchmark_thread_count_and_the_runs_record_it():
    import torch

    from benchmarks import environment

    before = torch.get_num_threads()
    try:
        environment.set_benchmark_threads(2)
        with environment.benchmark_threads() as threads:
            assert threads == 2 and torch.get_num_threads() == 2
        assert torch.get_num_threads() == before
    finally:
        environment.set_benchmark_threads(1)
    with environment.benchmark_threads():
        assert torch.get_num_threads() == 1
    with pytest.raises(ValueError, match="--threads must be >= 1, got 0"):
        environment.set_benchmark_threads(0)


def test_threads_zero_is_refused_in_one_line():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--only", "warp_vs_kornia", "--threads", "0", "--no-write"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "--threads must be >= 1, got 0" in done.stderr and "Traceback" not in done.stderr


def test_the_chapter_6_table_names_the_runs_trained_with_more_than_one_thread():
    from benchmarks.multiview_tables import _threads_sentence

    rows = {"(b) Random": [{"seed": 0}, {"seed": 1, "torch_threads": 1}], "(d) long": [{"seed": 0, "torch_threads": 2}]}
    assert _threads_sentence(rows) == "Torch threads: 1 per run, except (d) long seed 0: 2."
    assert _threads_sentence({"(b) Random": [{"seed": 0}]}) == "Torch threads: 1 per run."


def test_table_4_2_isolates_each_added_task_by_seed_and_does_not_call_it_a_fixed_claim():
    from benchmarks.lci_tables import _decomposition_lines

    def runs(*conv5_by_seed):
        return [{"pretrained": {"conv5": v}, "seed": s, "gates": {}} for s, v in enumerate(conv5_by_seed)]

    rows = {"Rot": runs(0.60, 0.70, 0.65), "Rot + Warp": runs(0.62, 0.71, 0.67)}
    assert _decomposition_lines(rows) == []  # nothing isolates LCI yet
    rows["Rot + LCI"] = runs(0.50)  # seed 0 only: paired with Rot's seed 0
    text = "\n".join(_decomposition_lines(rows))
    assert "| adding one task (read after the runs; paired by seed) |" in text and "fixed before" not in text
    assert "| Rot + LCI > Rot | -10.0 (single seed) | -10.0 (single seed) |" in text
    assert "| Rot + Warp > Rot | +1.7 ± 0.6 (holds) |" in text  # differences 2, 1, 2: sd 0.577


def test_the_chapter_6_long_row_applies_its_fixed_seed_rule_to_seed_0s_last_stage():
    from benchmarks.multiview_tables import _long_row_outcome, _run_threads

    scale = {"long_steps": 24000, "steps": 8000}
    held_out = "training subjects S1, S5 (held-out repetition)"  # HELD_OUT_GROUP, written out

    def run(final: float) -> dict:
        points = {"8000": {"test": 0.6, held_out: 0.66}, "24000": {"test": 0.7, held_out: final}}
        return {"seed": 0, "sync_by_step": points, "pretext": {"acc/sync": 0.93}}

    below = " ".join(_long_row_outcome([run(0.672)], scale))
    assert "67.2% (< 80%)" in below and "seeds 1-2 and row (c) at this length are not run" in below
    assert "training pairs (mean of its last epoch) ended at 0.93" in below and "from 66.0% (step 8000)" in below
    assert "follow" in " ".join(_long_row_outcome([run(0.81)], scale))
    assert _long_row_outcome([{"seed": 0, "sync_by_step": {"8000": {held_out: 0.6}}}], scale) == []  # unfinished
    assert _run_threads({"a": [{"seed": 0}], "b": [{"seed": 0, "torch_threads": 1}]}) == 1
    assert _run_threads({"a": [{"seed": 0}], "b": [{"seed": 0, "torch_threads": 2}]}).startswith("1 or 2 by run")


def test_the_multiview_pretext_mirrors_both_frames_of_about_half_the_pairs(tmp_path):
    """Sec. 6.2.3: the benchmark's pair data mirror both frames together at random, so a mirrored frame
    is not only ever the flipped one of a flipped pair."""
    from benchmarks.multiview_tables import BASELINE, SCALES, _folder, pretext_trainer
    from transformrec.backbones import build_backbone
    from transformrec.data.multiview_pairs import MultiViewPairs
    from transformrec.data.procedural_multiview import write_procedural_multiview

    scale = SCALES["smoke"]
    root = tmp_path / "studio"
    write_procedural_multiview(root, ("S1",), ("walk",), num_frames=scale["frames"], size=16, repetitions=1)
    folder = _folder(root, {**scale, "crop_size": 16}, BASELINE["background"], subjects=["S1"])
    backbone = build_backbone("siamese", trunk="resnet18", fusion=BASELINE["fusion"])
    trainer = pretext_trainer(backbone, folder, BASELINE, scale, 0, tmp_path / "run", max_steps=1, epochs=1)
    pairs = trainer.data
    assert isinstance(pairs, MultiViewPairs) and pairs.hflip
    plans = [plan for index in range(len(pairs)) for plan in pairs.plan(index)[0]]
    share = sum(plan.mirror_both for plan in plans) / len(plans)
    # len(plans) = 24 anchors × 3 kinds = 72 Bernoulli(1/2) draws: 0.5 ± 0.059 sd, so ± 3.4 sd
    assert 0.3 < share < 0.7
