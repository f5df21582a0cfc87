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


MAX_DECOMPRESSED_BYTES = 2**31
"""A compressed IDX file may not declare more data than this (2 GiB; Fashion-MNIST's largest is 47 MB)."""


def _read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Whole file contents, gunzipped when the file starts with the gzip magic (not by suffix).

    A gzip stream is decompressed only as far as its IDX header says the data goes (plus one byte,
    so trailing data is still detected): a small compressed file that expands to gigabytes (a
    "zip bomb", or a damaged header) is refused instead of filling memory.
    """
    with open(path, "rb") as handle:
        magic = handle.read(2)
        if magic != _GZIP_MAGIC:
            return magic + handle.read()
    name = os.fspath(path)
    try:
        with gzip.open(path, "rb") as stream:
            head = stream.read(4)
            if len(head) < 4 or head[:2] != b"\x00\x00" or head[2] not in _DTYPES:
                return head + stream.read(64)  # read_idx names what is wrong with this header
            dims = stream.read(4 * head[3])
            if len(dims) < 4 * head[3]:
                return head + dims
            shape = struct.unpack(f">{head[3]}I", dims)
            declared = int(np.prod(shape, dtype=np.float64)) * np.dtype(_DTYPES[head[2]][0]).itemsize
            if declared > MAX_DECOMPRESSED_BYTES:
                raise ValueError(
                    f"IDX file {name!r} declares shape {shape} ({declared / 2**30:.1f} GiB), more than the "
                    f"{MAX_DECOMPRESSED_BYTES / 2**30:.0f} GiB a compressed data file is allowed to expand to"
                )
            return head + dims + stream.read(declared + 1)
    except (EOFError, OSError, zlib.error) as error:  # truncated or corrupt gzip stream
        raise ValueError(f"IDX file {name!r} is a corrupt or truncated gzip file: {error}") from error


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
