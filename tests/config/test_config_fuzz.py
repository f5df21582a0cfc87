"""A careless or hostile user's configs: every shipped config with random ``--set`` overrides.

Each case loads the config and, for the embedded data set (nothing read from disk), builds the
data set, renders one image, and builds the transform set and the backbone, as ``transformrec
pretrain`` does before any compute; anything but the project's own error (one line at the CLI) is a failure: a raw
TypeError, KeyError, OverflowError or a hang is a traceback or a stuck run for the user. The number
of cases is ``TRANSFORMREC_FUZZ_CASES`` (300 by default, about a minute on 2 cores).
"""

from __future__ import annotations

import math
import os
import signal
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from transformrec.config.build import build_backbone_for, build_data, build_transform_set  # noqa: E402
from transformrec.config.loading import load_config, read_config_tree  # noqa: E402
from transformrec.errors import TransformrecError  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (REPO / "configs").rglob("*.yaml") if "kind: gan" not in p.read_text())
CASES = int(os.environ.get("TRANSFORMREC_FUZZ_CASES", "300"))
SECONDS_PER_CASE = 20


def _keys(tree: object, prefix: str = "") -> list[str]:
    """Every dotted key of a config tree (list items by index), to aim overrides at real fields."""
    if isinstance(tree, dict):
        keys = []
        for key, value in tree.items():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            keys += [dotted, *_keys(value, dotted)]
        return keys
    if isinstance(tree, list):
        return [k for index, value in enumerate(tree) for k in _keys(value, f"{prefix}.{index}")]
    return []


KEYS = sorted({key for path in CONFIGS for key in _keys(read_config_tree(path))})
EXTRA_KEYS = ["seed", "device", "kind", "threads", "output_dir", "data", "backbone", "transforms", "train.mode"]
VALUES = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "1",
            "2",
            "3.5",
            "1e29",
            "10000000000000000000000000000000",
            ".inf",
            "-.inf",
            ".nan",
            "true",
            "false",
            "null",
            "''",
            "'3'",
            "yes",
            "[]",
            "[1, 2]",
            "{}",
            "{a: 1}",
            "'🚀'",
            "abc",
            "{name: rotation}",
            "{name: lci, width: 0}",
            "{name: warp, order: -1}",
            "[identity, sync]",
            "[identity, speed]",
            "{name: no_such_thing}",
            "*x",
            "[",
            "{name: rotation, params: 1}",
        ]
    ),  # fmt: skip
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda x: repr(x) if math.isfinite(x) else ".nan"),
    st.text(max_size=8).map(lambda text: "'" + text.replace("'", "''") + "'"),
)
OVERRIDES = st.lists(st.tuples(st.sampled_from(KEYS + EXTRA_KEYS), VALUES), min_size=1, max_size=3)


class _CaseTimeoutError(Exception):
    pass


def _alarm(_signum, _frame):
    raise _CaseTimeoutError(f"a case took over {SECONDS_PER_CASE} s")


@settings(
    max_examples=CASES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(config=st.sampled_from(CONFIGS), overrides=OVERRIDES)
def test_any_config_and_overrides_load_and_build_or_fail_with_the_projects_own_error(config, overrides):
    assignments = [f"{key}={value}" for key, value in overrides]
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS_PER_CASE)
    try:
        loaded = load_config(config, assignments)
        if loaded.data.name == "upright_objects":  # nothing read from disk: data, transforms, backbone
            data = build_data(loaded.data)
            data[len(data) - 1]  # one scene rendered at the configured size (lazily built otherwise)
            build_transform_set(loaded, data)
            build_backbone_for(loaded.backbone, data, loaded.seed)
    except TransformrecError:
        pass  # the project's own error: one line at the command line
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
