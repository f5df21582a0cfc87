"""Reader for the IDX file format used by MNIST and Fashion-MNIST (plain or gzip-compressed).

Why our own reader: the Debian package ``dataset-fashion-mnist`` ships the raw ``*-ubyte.gz``
files and torchvision's loader insists on its own folder layout and on ``download``; a
forty-line parser reads either without network access or extra dependencies.

Layout (big-endian): two zero bytes, a dtype code, the number of dimensions ``n``, then ``n``
uint32 sizes, then the values in C order.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np
import torch

# IDX dtype code -> (numpy big-endian dtype, torch dtype of the returned tensor).
_DTYPES: dict[int, tuple[str, torch.dtype]] = {
    0x08: (">u1", torch.uint8),
    0x09: (">i1", torch.int8),
    0x0B: (">i2", torch.int16),
    0x0C: (">i4", torch.int32),
    0x0D: (">f4", torch.float32),
    0x0E: (">f8", torch.float64),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Whole file contents, gunzipped when the file starts with the gzip magic (not by suffix)."""
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:  # truncated or corrupt gzip stream
        raise ValueError(f"IDX file {os.fspath(path)!r} is a corrupt or truncated gzip file: {error}") from error


def read_idx(path: str | os.PathLike[str]) -> torch.Tensor:
    """Read an IDX file into a tensor of its stored dtype and shape (e.g. uint8 ``N×28×28``).

    Sizes are validated so a partially downloaded or truncated file fails loudly here, naming
    the file, instead of yielding a silently short data set.
    """
    name = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"IDX file {name!r} is truncated: {len(data)} bytes, no room for the 4-byte magic number")
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or code not in _DTYPES:
        raise ValueError(
            f"IDX file {name!r} has a bad magic number 0x{data[:4].hex()} (expected 0x0000 + dtype code in "
            f"{', '.join(hex(c) for c in _DTYPES)} + ndim)"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(f"IDX file {name!r} is truncated inside its header ({len(data)} < {header_size} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    np_dtype, torch_dtype = _DTYPES[code]
    itemsize = np.dtype(np_dtype).itemsize
    expected = int(np.prod(shape, dtype=np.int64)) * itemsize
    actual = len(data) - header_size
    if actual < expected:
        raise ValueError(f"IDX file {name!r} is truncated: shape {shape} needs {expected} data bytes, found {actual}")
    if actual > expected:
        raise ValueError(f"IDX file {name!r} has {actual - expected} trailing bytes after shape {shape}")
    array = np.frombuffer(data, dtype=np_dtype, offset=header_size).reshape(shape)
    # astype copies into native byte order, giving torch a writable array it can own.
    return torch.from_numpy(array.astype(np.dtype(np_dtype).newbyteorder("="))).to(torch_dtype)
