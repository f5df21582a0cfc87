"""Every Python block of the README and of every documentation page runs as pasted, on tiny settings.

A page's blocks are executed unchanged, in order, in one namespace (a page reads as one session), in
a scratch folder holding the procedural videos and multi-view studio the chapter 5 and 6 blocks read.
Only the sizes shrink, by wrapping the library entry points the blocks call: the Trainer stops after
two steps, data sets are cut to a few hundred items, and probes, pose transfer and the ch. 3
autoencoder train for a step or an epoch. A name a block uses without defining it fails the test.
"""

import re
from pathlib import Path

import pytest

import transformrec
import transformrec.eval
from transformrec.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), re.S)


PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PAGES_WITH_CODE = [page for page in PAGES if python_blocks(page)]


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


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    """Procedural videos and a multi-view studio, written once for every page that reads them."""
    pytest.importorskip("av")
    folder = tmp_path_factory.mktemp("media")
    args = ["--frames", "40", "--size", "16", "--sprites", "shapes"]
    assert main(["make-videos", str(folder / "procedural_videos"), "--num", "8", *args]) == 0
    assert main(["make-multiview", str(folder / "procedural_multiview"), "--frames", "24", "--size", "32"]) == 0
    return folder


def test_the_site_has_code_to_run():
    assert sum(len(python_blocks(page)) for page in PAGES) >= 15 and len(PAGES_WITH_CODE) >= 10
    assert python_blocks(ROOT / "README.md"), "the README's API example"


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_block_of_a_page_runs_as_pasted(page, media, tmp_path, monkeypatch):
    blocks = python_blocks(page)
    if "fashion_mnist" in page.read_text() and not Path("/usr/share/datasets/fashion-mnist").is_dir():
        pytest.skip("this page's examples read Debian's dataset-fashion-mnist")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").symlink_to(media, target_is_directory=True)
    _shrink(monkeypatch)
    namespace: dict = {}
    for index, block in enumerate(blocks):
        try:
            exec(compile(block, f"{page.name} python block {index}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"{page.relative_to(ROOT)} python block {index} failed:\n{block}") from error
