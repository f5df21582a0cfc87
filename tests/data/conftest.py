"""Shared helpers for the data tests: writing small IDX files by hand (no network, no real data)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array``: magic (0, 0, dtype code, ndim), big-endian sizes, big-endian values."""
    code = IDX_CODES[array.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as IDX to ``path``, gzipped when the name ends in ``.gz`` (or ``compress`` says so)."""
    data = idx_bytes(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def idx_encode():
    """``idx_bytes`` as a fixture, so test modules need not import conftest (ambiguous without packages)."""
    return idx_bytes


@pytest.fixture
def idx_writer():
    """``write_idx`` as a fixture."""
    return write_idx


@pytest.fixture
def fake_fashion_root(tmp_path: Path) -> Path:
    """torchvision's raw layout with 50 train (uncompressed) and 20 test (gzipped) random 28×28 images."""
    raw = tmp_path / "FashionMNIST" / "raw"
    rng = np.random.default_rng(0)
    for prefix, count, suffix in (("train", 50, ""), ("t10k", 20, ".gz")):
        write_idx(raw / f"{prefix}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (count, 28, 28), dtype=np.uint8))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte{suffix}", (np.arange(count) % 10).astype(np.uint8))
    return tmp_path
