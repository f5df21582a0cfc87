"""``transformrec show`` draws a labelled figure for every shipped pretext config, whatever its modality."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from transformrec.cli.main import main
from transformrec.config import load_config
from transformrec.transform_grid import render_transform_grid

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (REPO / "configs").glob("*.yaml") if "kind: gan" not in p.read_text())


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """Tiny procedural videos and multi-view studio for the chapter 5 and 6 configs."""
    pytest.importorskip("av")
    root = tmp_path_factory.mktemp("media")
    videos = ["--num", "3", "--frames", "40", "--size", "16", "--sprites", "shapes"]
    assert main(["make-videos", str(root / "videos"), *videos]) == 0
    assert main(["make-multiview", str(root / "multiview"), "--frames", "24", "--size", "32"]) == 0
    rng = np.random.default_rng(0)
    (root / "images" / "unlabeled").mkdir(parents=True)
    for index in range(4):  # an unlabelled image folder, as STL-10's unlabeled split is read
        Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(
            root / "images" / "unlabeled" / f"{index}.png"
        )
    return root


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_show_draws_every_shipped_config(path, media, tmp_path):
    config = load_config(path)
    overrides = {
        "video_folder": {"root": str(media / "videos")},
        "multiview_folder": {"root": str(media / "multiview")},
        "image_folder": {"root": str(media / "images" / "unlabeled")},
    }
    if config.data.name == "fashion_mnist" and not Path("/usr/share/datasets/fashion-mnist").is_dir():
        pytest.skip("needs Debian's dataset-fashion-mnist")
    if config.data.name == "torchvision":  # tests never download: STL-10 stands in as an image folder
        size = config.data.params.get("image_size", 32)
        stand_in = {"name": "image_folder", "params": {"root": "-", "image_size": size}}
        config = config.model_copy(update={"data": config.data.model_validate(stand_in)})
    params = {**config.data.params, **overrides.get(config.data.name, {})}
    if "num_samples" in params:
        params["num_samples"] = 64
    config = config.model_copy(update={"data": config.data.model_copy(update={"params": params})})
    figure = render_transform_grid(config, tmp_path / "show.png", num_images=2)
    width, height = Image.open(figure.path).size
    assert width >= 400 and height >= 200 and figure.columns and figure.rows
    if config.data.name == "video_folder":
        assert all("motion=" in row for row in figure.rows) and figure.columns[0] == "frame 0"
    elif config.data.name == "multiview_folder":
        assert figure.columns == ["positive", "unsynchronized", "flipped"]
    else:
        assert figure.columns == [slot for names in _heads(config) for slot in names]


def _heads(config):
    from transformrec.config.build import build_data, build_transform_set

    return [names for names in build_transform_set(config, build_data(config.data)).heads.values()][:1]


def test_a_long_title_is_wrapped_inside_a_narrow_figure_and_above_its_axes():
    """Two columns (identity and one transform) make a 4-inch figure: a run's name must wrap, not be cut."""
    import matplotlib.pyplot as plt

    from transformrec.transform_grid import place_title

    fig, axes = plt.subplots(3, 2, figsize=(4.0, 6.0))
    name = "upright_objects, LCI, width 64 and F warmed up (the shipped config's F), seed 0: trained inpainter"
    lines = place_title(fig, name)
    renderer = fig.canvas.get_renderer()
    title = fig._suptitle.get_window_extent(renderer)
    page = fig.bbox
    assert len(lines) > 1 and " ".join(lines) == name
    assert page.x0 <= title.x0 and title.x1 <= page.x1 and title.y1 <= page.y1
    assert max(ax.get_window_extent(renderer).y1 for ax in axes.flat) <= title.y0
    plt.close(fig)
