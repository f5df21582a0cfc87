"""Every built-in component's name and parameters, known without importing the components (or torch).

Why: a config is checked (names, the parameters a component takes) before anything is built, and
``transformrec list`` names what exists. Importing the registries for that means importing every
component and torch, seconds before a one-line error. :data:`INDEX` is a generated copy of the
built-in registrations (``python -m transformrec.component_index`` rewrites it; a test compares it
with the live registries). A component registered by a user's module (``--import``) is not in it:
its registry was imported by that module, and :class:`Components` asks the live registry then.
"""

from __future__ import annotations

import importlib
import inspect
import pprint
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from transformrec.registry import refuse_unknown_keys, refuse_wrong_types, scalar_types

# The registry behind each kind: module, attribute.
REGISTRIES = {
    "transform": ("transformrec.transforms.registry", "TRANSFORMS"),
    "backbone": ("transformrec.backbones.registry", "BACKBONES"),
    "dataset": ("transformrec.data.registry", "DATASETS"),
    "evaluation": ("transformrec.eval.registry", "EVALUATIONS"),
    "gan objective": ("transformrec.adversarial.objectives", "OBJECTIVES"),
}

INDEX: dict[str, dict[str, dict[str, Any]]] = {
    # generated: python -m transformrec.component_index
    "transform": {
        "damage_repair": {
            "parameters": [
                "channels",
                "width",
                "drop_rate",
                "fill",
                "average_kernel",
                "encoder_kernel",
                "repair",
                "gating",
                "autoencoded_real",
                "mask_head",
                "history",
                "history_size",
                "mask_tap",
                "repair_loss",
                "lambda_kept",
                "mask_weight",
                "mask_on_real",
                "pretrain_steps",
                "autoencoder",
                "lr",
                "final_lr",
                "betas",
                "lr_decay_steps",
                "decoy_for",
                "seed",
            ],
            "var_keyword": False,
            "run_inputs": ["channels", "seed"],
            "types": {
                "channels": "int",
                "width": "int",
                "drop_rate": "float",
                "fill": "str",
                "average_kernel": "int",
                "encoder_kernel": "int",
                "repair": "str",
                "gating": "bool",
                "autoencoded_real": "bool",
                "mask_head": "bool",
                "history": "bool",
                "history_size": "int",
                "mask_tap": "str",
                "repair_loss": "str",
                "lambda_kept": "float",
                "mask_weight": "float",
                "mask_on_real": "bool",
                "pretrain_steps": "int",
                "autoencoder": "str | None",
                "lr": "float",
                "final_lr": "float",
                "lr_decay_steps": "int | None",
                "seed": "int",
            },
        },
        "flip": {
            "parameters": ["single_view"],
            "var_keyword": False,
            "run_inputs": [],
            "types": {"single_view": "bool"},
        },
        "identity": {"parameters": [], "var_keyword": False, "run_inputs": [], "types": {}},
        "lci": {
            "parameters": [
                "channels",
                "patch_size",
                "border",
                "width",
                "inpainter_stages",
                "lambda_border",
                "lambda_ae",
                "lr",
                "betas",
                "discriminator_lr_factor",
                "discriminator_pack",
                "noise_scale",
                "fool_classifier",
                "patch_autoencoding",
                "frozen",
                "pretrain_steps",
                "warmup_steps",
                "decoy_for",
                "decoy_feedback",
                "joint_batch",
                "seed",
                "objective",
                "distribution_filter",
            ],
            "var_keyword": False,
            "run_inputs": ["channels", "seed"],
            "types": {
                "channels": "int",
                "patch_size": "float",
                "border": "int",
                "width": "int",
                "inpainter_stages": "int",
                "lambda_border": "float",
                "lambda_ae": "float",
                "lr": "float",
                "discriminator_lr_factor": "float",
                "discriminator_pack": "int",
                "noise_scale": "float",
                "fool_classifier": "bool",
                "patch_autoencoding": "bool",
                "frozen": "bool",
                "pretrain_steps": "int",
                "warmup_steps": "int",
                "decoy_feedback": "bool",
                "joint_batch": "bool",
                "seed": "int",
                "objective": "str",
            },
        },
        "periodic": {
            "parameters": ["clip_length"],
            "var_keyword": False,
            "run_inputs": [],
            "types": {"clip_length": "int"},
        },
        "random_order": {
            "parameters": ["clip_length"],
            "var_keyword": False,
            "run_inputs": [],
            "types": {"clip_length": "int"},
        },
        "rotation": {"parameters": ["angles"], "var_keyword": False, "run_inputs": [], "types": {}},
        "speed": {
            "parameters": ["speeds", "speed_loss", "clip_length"],
            "var_keyword": False,
            "run_inputs": [],
            "types": {"speed_loss": "bool", "clip_length": "int"},
        },
        "sync": {
            "parameters": ["d_min", "d_max", "single_view"],
            "var_keyword": False,
            "run_inputs": [],
            "types": {"d_min": "int", "d_max": "int", "single_view": "bool"},
        },
        "temporal_warp": {
            "parameters": ["max_skip", "clip_length"],
            "var_keyword": False,
            "run_inputs": [],
            "types": {"max_skip": "int", "clip_length": "int"},
        },
        "warp": {
            "parameters": ["grid_size", "max_offset", "order", "padding_mode"],
            "var_keyword": False,
            "run_inputs": [],
            "types": {"grid_size": "int", "max_offset": "float", "order": "int", "padding_mode": "str"},
        },
    },
    "backbone": {
        "alexnet_bn": {
            "parameters": [
                "in_channels",
                "width",
                "fc_dim",
                "groups",
                "low_resolution",
                "image_size",
                "batch_norm",
                "fc_layers",
                "input_scale",
                "init",
            ],
            "var_keyword": False,
            "run_inputs": ["image_size", "in_channels"],
            "types": {
                "in_channels": "int",
                "width": "float",
                "fc_dim": "int",
                "groups": "int",
                "low_resolution": "bool",
                "image_size": "int",
                "batch_norm": "str",
                "fc_layers": "int",
                "input_scale": "float | None",
                "init": "str",
            },
        },
        "c3d_small": {
            "parameters": ["in_channels", "width", "lean_blocks"],
            "var_keyword": False,
            "run_inputs": ["in_channels"],
            "types": {"in_channels": "int", "width": "float", "lean_blocks": "bool"},
        },
        "cifarnet": {
            "parameters": ["in_channels", "image_size", "width", "dropout"],
            "var_keyword": False,
            "run_inputs": ["image_size", "in_channels"],
            "types": {"in_channels": "int", "image_size": "int", "width": "float", "dropout": "float"},
        },
        "preact_resnet18": {
            "parameters": ["in_channels", "width"],
            "var_keyword": False,
            "run_inputs": ["in_channels"],
            "types": {"in_channels": "int", "width": "float"},
        },
        "r2plus1d_18": {"parameters": [], "var_keyword": False, "run_inputs": [], "types": {}},
        "r3d_18": {"parameters": [], "var_keyword": False, "run_inputs": [], "types": {}},
        "resnet18": {
            "parameters": ["in_channels", "low_resolution"],
            "var_keyword": False,
            "run_inputs": ["in_channels"],
            "types": {"in_channels": "int", "low_resolution": "bool"},
        },
        "resnet34": {
            "parameters": ["in_channels", "low_resolution"],
            "var_keyword": False,
            "run_inputs": ["in_channels"],
            "types": {"in_channels": "int", "low_resolution": "bool"},
        },
        "resnet50": {
            "parameters": ["in_channels", "low_resolution"],
            "var_keyword": False,
            "run_inputs": ["in_channels"],
            "types": {"in_channels": "int", "low_resolution": "bool"},
        },
        "siamese": {
            "parameters": ["trunk", "fusion"],
            "var_keyword": True,
            "run_inputs": [],
            "types": {"trunk": "str", "fusion": "str"},
        },
        "small_inception": {
            "parameters": ["in_channels", "width", "dropout"],
            "var_keyword": False,
            "run_inputs": ["in_channels"],
            "types": {"in_channels": "int", "width": "float", "dropout": "float"},
        },
    },
    "dataset": {
        "fashion_mnist": {
            "parameters": ["root", "split", "image_size", "channels", "limit", "seed"],
            "var_keyword": False,
            "run_inputs": ["image_size", "split"],
            "types": {
                "root": "str | None",
                "split": "str",
                "image_size": "int",
                "channels": "int",
                "limit": "int | None",
                "seed": "int",
            },
        },
        "fashion_on_noise": {
            "parameters": ["num_samples", "image_size", "seed", "split", "channels", "cache", "root"],
            "var_keyword": False,
            "run_inputs": ["image_size", "split"],
            "types": {
                "num_samples": "int | None",
                "image_size": "int",
                "seed": "int",
                "split": "str",
                "channels": "int",
                "cache": "bool",
                "root": "str | None",
            },
        },
        "image_folder": {
            "parameters": ["root", "image_size", "channels"],
            "var_keyword": False,
            "run_inputs": ["image_size"],
            "types": {"root": "str", "image_size": "int", "channels": "int"},
        },
        "multiview_folder": {
            "parameters": [
                "root",
                "split",
                "subjects",
                "actions",
                "image_size",
                "background",
                "threshold",
                "median_frames",
                "cache",
                "crop",
                "crop_margin",
            ],
            "var_keyword": False,
            "run_inputs": ["image_size", "split"],
            "types": {
                "split": "str | None",
                "image_size": "int | None",
                "background": "str",
                "threshold": "float",
                "median_frames": "int",
                "cache": "bool",
                "crop": "str",
                "crop_margin": "float",
            },
        },
        "multiview_poses": {
            "parameters": [
                "root",
                "split",
                "subjects",
                "actions",
                "image_size",
                "background",
                "threshold",
                "stride",
                "limit",
                "cache",
                "crop",
                "crop_margin",
            ],
            "var_keyword": False,
            "run_inputs": ["image_size", "split"],
            "types": {
                "split": "str | None",
                "image_size": "int | None",
                "background": "str",
                "threshold": "float",
                "stride": "int",
                "limit": "int | None",
                "cache": "bool",
                "crop": "str",
                "crop_margin": "float",
            },
        },
        "noisy_labels": {
            "parameters": ["base", "fraction", "seed"],
            "var_keyword": False,
            "run_inputs": [],
            "types": {"fraction": "float", "seed": "int"},
        },
        "pixel_permuted": {
            "parameters": ["base", "per_image", "seed"],
            "var_keyword": False,
            "run_inputs": [],
            "types": {"per_image": "bool", "seed": "int"},
        },
        "procedural": {
            "parameters": ["num_samples", "image_size", "seed", "split", "channels", "cache"],
            "var_keyword": False,
            "run_inputs": ["image_size", "split"],
            "types": {
                "num_samples": "int",
                "image_size": "int",
                "seed": "int",
                "split": "str",
                "channels": "int",
                "cache": "bool",
            },
        },
        "torchvision": {
            "parameters": ["dataset", "root", "split", "download", "image_size", "channels"],
            "var_keyword": False,
            "run_inputs": ["image_size", "split"],
            "types": {
                "dataset": "str",
                "root": "str",
                "split": "str",
                "download": "bool",
                "image_size": "int",
                "channels": "int",
            },
        },
        "upright_objects": {
            "parameters": ["num_samples", "image_size", "seed", "split", "channels", "cache"],
            "var_keyword": False,
            "run_inputs": ["image_size", "split"],
            "types": {
                "num_samples": "int",
                "image_size": "int",
                "seed": "int",
                "split": "str",
                "channels": "int",
                "cache": "bool",
            },
        },
        "video_folder": {
            "parameters": [
                "root",
                "split",
                "clip_length",
                "speed",
                "image_size",
                "limit",
                "decoder",
                "frame_cache",
                "cache_dir",
            ],
            "var_keyword": False,
            "run_inputs": ["image_size", "split"],
            "types": {
                "split": "str | None",
                "clip_length": "int",
                "speed": "int",
                "image_size": "int | None",
                "limit": "int | None",
                "decoder": "str",
                "frame_cache": "str",
            },
        },
    },
    "evaluation": {
        "finetune": {
            "parameters": [
                "backbone",
                "train_set",
                "test_set",
                "epochs",
                "lr",
                "weight_decay",
                "batch_size",
                "labels_per_class",
                "device",
                "seed",
                "freeze",
                "reestimate_bn",
                "num_workers",
                "bilevel",
                "progress",
                "save_to",
            ],
            "var_keyword": False,
            "run_inputs": ["bilevel", "device", "labels_per_class", "progress", "save_to", "seed"],
            "types": {
                "epochs": "int",
                "lr": "float",
                "weight_decay": "float",
                "batch_size": "int",
                "labels_per_class": "int | None",
                "seed": "int",
                "reestimate_bn": "bool",
                "num_workers": "int",
                "progress": "bool",
            },
        },
        "knn": {
            "parameters": [
                "backbone",
                "train_set",
                "test_set",
                "taps",
                "ks",
                "batch_size",
                "device",
                "target_dim",
                "chunk_size",
                "loocv",
            ],
            "var_keyword": False,
            "run_inputs": ["device"],
            "types": {"batch_size": "int", "target_dim": "int", "chunk_size": "int", "loocv": "bool"},
        },
        "linear_probe": {
            "parameters": [
                "backbone",
                "train_set",
                "test_set",
                "taps",
                "labels_per_class",
                "epochs",
                "lr",
                "weight_decay",
                "batch_size",
                "device",
                "seed",
                "target_dim",
                "resize",
                "augment_views",
                "bilevel",
                "progress",
                "save_to",
            ],
            "var_keyword": False,
            "run_inputs": ["bilevel", "device", "labels_per_class", "progress", "save_to", "seed"],
            "types": {
                "labels_per_class": "int | None",
                "epochs": "int",
                "lr": "float",
                "weight_decay": "float",
                "batch_size": "int",
                "seed": "int",
                "target_dim": "int",
                "resize": "str",
                "augment_views": "int",
                "progress": "bool",
            },
        },
        "pose3d": {
            "parameters": [
                "backbone",
                "train_set",
                "test_set",
                "epochs",
                "batch_size",
                "lr",
                "final_lr",
                "weight_decay",
                "freeze",
                "hflip",
                "device",
                "seed",
                "num_workers",
                "return_model",
                "progress",
            ],
            "var_keyword": False,
            "run_inputs": ["device", "progress", "seed"],
            "types": {
                "epochs": "int",
                "batch_size": "int",
                "lr": "float",
                "final_lr": "float",
                "weight_decay": "float",
                "hflip": "bool",
                "seed": "int",
                "num_workers": "int",
                "return_model": "bool",
                "progress": "bool",
            },
        },
        "video_action": {
            "parameters": [
                "backbone",
                "train_set",
                "test_set",
                "tap",
                "grid",
                "train_clips",
                "test_clips",
                "speed",
                "epochs",
                "lr",
                "device",
                "seed",
            ],
            "var_keyword": False,
            "run_inputs": ["device", "seed"],
            "types": {
                "tap": "str",
                "train_clips": "int",
                "test_clips": "int",
                "speed": "int",
                "epochs": "int",
                "lr": "float",
                "seed": "int",
            },
        },
        "video_before_after": {
            "parameters": [
                "backbone",
                "train_set",
                "test_set",
                "tap",
                "grid",
                "pairs_per_video",
                "epochs",
                "lr",
                "device",
                "seed",
            ],
            "var_keyword": False,
            "run_inputs": ["device", "seed"],
            "types": {"tap": "str", "pairs_per_video": "int", "epochs": "int", "lr": "float", "seed": "int"},
        },
        "video_finetune": {
            "parameters": [
                "backbone",
                "train_set",
                "test_set",
                "epochs",
                "lr",
                "weight_decay",
                "batch_size",
                "speed",
                "test_clips",
                "freeze",
                "device",
                "seed",
                "num_workers",
                "return_backbone",
                "progress",
            ],
            "var_keyword": False,
            "run_inputs": ["device", "progress", "seed"],
            "types": {
                "epochs": "int",
                "lr": "float",
                "weight_decay": "float",
                "batch_size": "int",
                "speed": "int",
                "test_clips": "int",
                "seed": "int",
                "num_workers": "int",
                "return_backbone": "bool",
                "progress": "bool",
            },
        },
        "video_retrieval": {
            "parameters": ["backbone", "train_set", "test_set", "tap", "crops", "speed", "ks", "device", "seed"],
            "var_keyword": False,
            "run_inputs": ["device", "seed"],
            "types": {"tap": "str", "crops": "int", "speed": "int", "seed": "int"},
        },
        "video_sync": {
            "parameters": [
                "backbone",
                "train_set",
                "test_set",
                "tap",
                "grid",
                "pairs_per_video",
                "epochs",
                "lr",
                "device",
                "seed",
            ],
            "var_keyword": False,
            "run_inputs": ["device", "seed"],
            "types": {"tap": "str", "pairs_per_video": "int", "epochs": "int", "lr": "float", "seed": "int"},
        },
    },
    "gan objective": {
        "hinge": {"parameters": [], "var_keyword": False, "run_inputs": [], "types": {}},
        "least_squares": {"parameters": [], "var_keyword": False, "run_inputs": [], "types": {}},
        "minimax": {"parameters": [], "var_keyword": False, "run_inputs": [], "types": {}},
        "non_saturating": {"parameters": [], "var_keyword": False, "run_inputs": [], "types": {}},
        "wgan_gp": {"parameters": [], "var_keyword": False, "run_inputs": [], "types": {}},
    },
}


class Components:
    """One kind of component, as a config sees it: the built-in index, plus what a user's code
    registered (read from the live registry only when its module is already imported)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def _live(self):
        module, attribute = REGISTRIES[self.kind]
        loaded = sys.modules.get(module)
        return getattr(loaded, attribute, None) if loaded is not None else None

    def _plugin(self, name: str):
        live = self._live()
        return live if live is not None and name not in INDEX[self.kind] and name in live else None

    def names(self) -> list[str]:
        live = self._live()
        return sorted(set(INDEX[self.kind]) | set(live.names() if live is not None else ()))

    def __contains__(self, name: object) -> bool:
        return name in INDEX[self.kind] or self._plugin(name) is not None  # type: ignore[arg-type]

    def run_inputs(self, name: str) -> frozenset[str]:
        plugin = self._plugin(name)
        return plugin.run_inputs(name) if plugin is not None else frozenset(INDEX[self.kind][name]["run_inputs"])

    def check_parameters(self, name: str, params, reserved=(), noun: str = "parameter") -> None:
        """As :meth:`Registry.check_parameters`, from the index for a built-in component."""
        plugin = self._plugin(name)
        if plugin is not None:
            plugin.check_parameters(name, params, reserved, noun)
            return
        entry = INDEX[self.kind][name]
        refuse_unknown_keys(f"{self.kind} {name!r}", entry["parameters"], entry["var_keyword"], params, reserved, noun)
        if isinstance(params, Mapping):
            refuse_wrong_types(f"{self.kind} {name!r}", entry["types"], params)


def is_built_in(factory: Any) -> bool:
    """Whether a registered factory is this package's (not a plugin's or a test's)."""
    return factory.__module__.startswith("transformrec.")


def live_index() -> dict[str, dict[str, dict[str, Any]]]:
    """The index as the live registries give it (imports every component): built-in components only."""
    index: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, (module, attribute) in REGISTRIES.items():
        registry = getattr(importlib.import_module(module), attribute)
        index[kind] = {}
        for name in registry.names():
            factory = registry.get(name)
            if not is_built_in(factory):
                continue  # registered by code outside the package (a plugin, a test)
            try:
                parameters = inspect.signature(factory).parameters
            except (TypeError, ValueError):  # an object registered as it is (a GAN objective)
                parameters = {}
            index[kind][name] = {
                "parameters": [n for n, p in parameters.items() if p.kind is not p.VAR_KEYWORD],
                "var_keyword": any(p.kind is p.VAR_KEYWORD for p in parameters.values()),
                "run_inputs": sorted(registry.run_inputs(name)) if hasattr(registry, "run_inputs") else [],
                "types": scalar_types(factory) if parameters else {},
            }
    return index


def write_index(path: Path = Path(__file__)) -> None:
    """Rewrite :data:`INDEX` in this file from the live registries."""
    body = pprint.pformat(live_index(), width=110, sort_dicts=False)[1:-1]
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    header = "INDEX: dict[str, dict[str, dict[str, Any]]] = {\n"
    header += "    # generated: python -m transformrec.component_index\n"
    block = f"{header}{lines}\n}}"
    text = path.read_text()
    pattern = r"INDEX: dict\[str, dict\[str, dict\[str, Any\]\]\] = \{.*?\n\}"
    path.write_text(re.sub(pattern, lambda _: block, text, flags=re.S))
    # In the project's code style (ruff, from the test extra), so a regenerated index differs from
    # the stored one only where a component changed; without ruff the file stays valid, unformatted.
    subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(path)], check=False, capture_output=True)


if __name__ == "__main__":
    write_index()
