"""Every Python block of the README runs as pasted, in order, on tiny settings.

The blocks are executed unchanged in one namespace (they read as one session), in a scratch folder
holding the procedural videos and multi-view studio the chapter 5 and 6 blocks read. Only the sizes
shrink, by wrapping the library entry points the blocks call: the Trainer stops after two steps,
data sets are cut to a few hundred items, and probes, pose transfer and the ch. 3 autoencoder train
for a step or an epoch. A name a block uses without defining it fails the test.
"""

import re
from pathlib import Path

import pytest

import transformrec
import transformrec.eval
from transformrec.cli.main import main

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def _shrink(monkeypatch) -> None:
    trainer, build_dataset = transformrec.Trainer, transformrec.build_dataset
    linear_probe, pose3d = transformrec.eval.linear_probe, transformrec.eval.pose3d_transfer
    damage_repair = transformrec.DamageRepair

    def small_trainer(*args, **kwargs):
        return trainer(*args, **{**kwargs, "max_steps": 2, "progress": False, "tensorboard": False})

    def small_data(name, **params):
        if name == "fashion_mnist":
            params.setdefault(
                "limit", 1500 if params.get("split", "train") == "train" else 300
            )  # 100 labels per class fit
        return build_dataset(name, **params)

    monkeypatch.setattr(transformrec, "Trainer", small_trainer)
    monkeypatch.setattr(transformrec, "build_dataset", small_data)
    monkeypatch.setattr(transformrec.eval, "linear_probe", lambda *a, **k: linear_probe(*a, **{**k, "epochs": 1}))
    monkeypatch.setattr(transformrec.eval, "pose3d_transfer", lambda *a, **k: pose3d(*a, **{**k, "epochs": 1}))
    monkeypatch.setattr(transformrec, "DamageRepair", lambda **k: damage_repair(**{**k, "pretrain_steps": 2}))


@pytest.mark.slow
def test_every_python_block_of_the_readme_runs_as_pasted(tmp_path, monkeypatch):
    pytest.importorskip("av")
    if not Path("/usr/share/datasets/fashion-mnist").is_dir():
        pytest.skip("the README's examples read Debian's dataset-fashion-mnist")
    assert len(BLOCKS) >= 10
    monkeypatch.chdir(tmp_path)
    args = ["--frames", "40", "--size", "16", "--sprites", "shapes"]
    assert main(["make-videos", "data/procedural_videos", "--num", "8", *args]) == 0
    assert main(["make-multiview", "data/procedural_multiview", "--frames", "24", "--size", "32"]) == 0
    _shrink(monkeypatch)
    namespace: dict = {}
    for index, block in enumerate(BLOCKS):
        try:
            exec(compile(block, f"README.md python block {index}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"README python block {index} failed:\n{block}") from error
