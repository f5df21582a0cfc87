"""``transformrec make-multiview`` then ``demo`` on the chapter 6 procedural config, at tiny settings."""

import json
from pathlib import Path

import numpy as np

from transformrec.cli.main import main

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "procedural_multiview.yaml"


def test_make_multiview_then_demo_reports_pose_errors(tmp_path, capsys):
    root = tmp_path / "studio"
    args = ["make-multiview", str(root), "--subjects", "S1", "S9", "--actions", "wave", "--frames", "12"]
    assert main([*args, "--size", "16"]) == 0
    assert (root / "S1" / "cameras.json").is_file()
    assert np.load(root / "S9" / "wave" / "joints3d.npy").shape == (12, 17, 3)
    assert len(list((root / "S1" / "wave" / "cam3").glob("*.png"))) == 12
    sets = [
        f"data.root={root}",
        f"evaluation.train_data.root={root}",
        f"evaluation.test_data.root={root}",
        f"output_dir={tmp_path / 'run'}",
        "data.split=null",
        "train.epochs=1",
        "train.max_steps=2",
        "train.batch_size=4",
        "evaluation.options.epochs=1",
        "device=cpu",
    ]
    assert main(["demo", str(CONFIG), *[a for s in sets for a in ("--set", s)]]) == 0
    out = capsys.readouterr().out
    assert "pose3d results" in out and "MPJPE" in out
    saved = json.loads((tmp_path / "run" / "eval_pose3d.json").read_text())
    assert set(saved["pretrained"]["test"]) == {"mpjpe", "nmpjpe", "pmpjpe"} and "random" in saved
