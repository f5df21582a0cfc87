"""A researcher's own folder of images, start to finish, with the template config as it ships:
pretrain on a flat folder, evaluate on labelled folders with a gain line, export, load in torchvision."""

from pathlib import Path

import torch
import torchvision
from torchvision.utils import save_image

from transformrec.cli.main import main
from transformrec.data.registry import build_dataset

TEMPLATE = Path(__file__).resolve().parents[2] / "configs" / "templates" / "own_images.yaml"


def _write_folders(root: Path) -> dict[str, Path]:
    """Generated scenes saved as PNG files: a flat unlabelled folder and labelled train/test folders."""
    scenes = build_dataset("upright_objects", num_samples=160, image_size=32)
    folders = {"images": root / "images", "train": root / "labelled" / "train", "test": root / "labelled" / "test"}
    for index in range(len(scenes)):
        image, label = scenes[index]
        if index < 96:
            target = folders["images"]
        else:
            split = "train" if index < 136 else "test"
            target = folders[split] / f"class_{label}"
        target.mkdir(parents=True, exist_ok=True)
        save_image(image, target / f"scene_{index:03d}.png")
    return folders


def test_the_template_takes_a_folder_of_images_to_an_evaluated_and_exported_backbone(tmp_path, capsys):
    folders = _write_folders(tmp_path)
    small = [
        *("--set", f"output_dir={tmp_path / 'run'}", "--set", f"data.root={folders['images']}"),
        *("--set", f"evaluation.train_data.root={folders['train']}"),
        *("--set", f"evaluation.test_data.root={folders['test']}"),
        *("--set", "backbone={name: resnet18}", "--set", "train.epochs=1", "--set", "train.batch_size=32"),
        *("--set", "evaluation.labels_per_class=null", "--set", "evaluation.options.epochs=2"),
        *("--set", "device=cpu", "--set", "progress=false"),
    ]
    assert main(["pretrain", str(TEMPLATE), *small]) == 0
    assert main(["eval", str(TEMPLATE), *small]) == 0
    assert "gain: best layer" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "run"), "--format", "torchvision"]) == 0
    model = torchvision.models.resnet18()
    weights = torch.load(tmp_path / "run" / "backbone_torchvision.pt", weights_only=True)
    missing, unexpected = model.load_state_dict(weights, strict=False)
    assert sorted(missing) == ["fc.bias", "fc.weight"] and not unexpected
