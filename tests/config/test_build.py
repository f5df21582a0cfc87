"""Building a backbone from a config: weights no machine here could hold are refused before allocation."""

import re
from pathlib import Path

import pytest
import torch

from transformrec.config import build as build_module
from transformrec.config.build import build_backbone_for, build_data
from transformrec.config.loading import ConfigError, load_config

QUICKSTART = Path(__file__).resolve().parents[2] / "configs" / "quickstart.yaml"


def test_weights_beyond_half_the_memory_are_refused_in_one_line_naming_their_count(monkeypatch):
    config = load_config(QUICKSTART)
    data = build_data(config.data)
    expected = sum(p.numel() for p in build_backbone_for(config.backbone, data).parameters())
    monkeypatch.setattr(build_module, "_physical_memory_bytes", lambda: 8 * expected - 8)  # half: 4 bytes short
    with pytest.raises(ConfigError, match=re.escape(f"backbone (alexnet_bn): {expected:.3g} parameters")):
        build_backbone_for(config.backbone, data)
    monkeypatch.setattr(build_module, "_physical_memory_bytes", lambda: 8 * expected)  # exactly half: built
    assert sum(p.numel() for p in build_backbone_for(config.backbone, data).parameters()) == expected


def test_the_count_is_taken_on_the_meta_device_so_the_seeded_initialisation_is_unchanged():
    config = load_config(QUICKSTART)
    data = build_data(config.data)
    first = build_backbone_for(config.backbone, data, seed=3)
    torch.manual_seed(123)  # whatever the global generator holds before the build
    second = build_backbone_for(config.backbone, data, seed=3)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b) and a.device.type == "cpu"
