"""The IDX reader against hand-written bytes: shapes, dtypes, gzip, and loud failures on damaged files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from transformrec.data.idx_format import read_idx


def test_reads_gzipped_uint8_images_with_shape_and_values(tmp_path, idx_writer):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    tensor = read_idx(idx_writer(tmp_path / "images-idx3-ubyte.gz", images))
    assert tensor.dtype == torch.uint8
    assert tensor.shape == (2, 3, 4)
    assert torch.equal(tensor, torch.from_numpy(images))


def test_reads_uncompressed_file_and_detects_gzip_by_content_not_name(tmp_path, idx_writer):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    assert read_idx(idx_writer(tmp_path / "labels", labels)).tolist() == [3, 1, 4, 1, 5]
    assert read_idx(idx_writer(tmp_path / "labels-no-suffix", labels, compress=True)).tolist() == [3, 1, 4, 1, 5]


@pytest.mark.parametrize(
    ("dtype", "torch_dtype"),
    [(np.int8, torch.int8), (np.int16, torch.int16), (np.int32, torch.int32), (np.float32, torch.float32)],
)
def test_big_endian_multibyte_dtypes_are_decoded_to_native_values(tmp_path, idx_writer, dtype, torch_dtype):
    values = np.array([[-7, 0], [1, 100]], dtype=dtype)
    tensor = read_idx(idx_writer(tmp_path / "values.gz", values))
    assert tensor.dtype == torch_dtype
    assert tensor.tolist() == values.tolist()


def test_truncated_data_names_the_file(tmp_path, idx_encode):
    path = tmp_path / "short-idx3-ubyte"
    path.write_bytes(idx_encode(np.zeros((4, 5, 5), dtype=np.uint8))[:-10])
    with pytest.raises(ValueError, match=r"short-idx3-ubyte.*truncated"):
        read_idx(path)


def test_truncated_gzip_stream_names_the_file(tmp_path, idx_encode):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_encode(np.ones((10, 28, 28), dtype=np.uint8)))[:40])
    with pytest.raises(ValueError, match=r"cut\.gz"):
        read_idx(path)


def test_truncated_header_is_reported(tmp_path, idx_encode):
    path = tmp_path / "header"
    path.write_bytes(idx_encode(np.zeros((2, 2, 2), dtype=np.uint8))[:9])
    with pytest.raises(ValueError, match="header"):
        read_idx(path)


@pytest.mark.parametrize("magic", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"])
def test_bad_magic_number_is_rejected(tmp_path, magic):
    path = tmp_path / "bad-magic"
    path.write_bytes(magic + b"\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match=r"bad-magic.*magic"):
        read_idx(path)


def test_trailing_bytes_are_rejected(tmp_path, idx_encode):
    path = tmp_path / "long"
    path.write_bytes(idx_encode(np.zeros(3, dtype=np.uint8)) + b"\x00")
    with pytest.raises(ValueError, match="trailing"):
        read_idx(path)


def test_a_small_gzip_that_expands_far_beyond_its_header_is_refused_without_inflating_it(tmp_path):
    import struct
    import time

    path = tmp_path / "bomb-idx3-ubyte.gz"
    header = b"\x00\x00\x08\x03" + struct.pack(">3I", 10, 28, 28)  # declares 7840 bytes of images
    with gzip.open(path, "wb") as stream:
        stream.write(header)
        for _ in range(8):  # then 512 MiB of zeros: about half a megabyte once compressed
            stream.write(bytes(64 * 2**20))
    started = time.perf_counter()
    with pytest.raises(ValueError, match="trailing bytes"):
        read_idx(path)
    assert time.perf_counter() - started < 5  # only the declared bytes (plus one) were inflated


def test_a_compressed_file_declaring_more_than_two_gibibytes_is_refused(tmp_path):
    import struct

    path = tmp_path / "huge-idx3-ubyte.gz"
    with gzip.open(path, "wb") as stream:
        stream.write(b"\x00\x00\x08\x03" + struct.pack(">3I", 2**30, 28, 28))
    with pytest.raises(ValueError, match=r"declares shape \(1073741824, 28, 28\) \(784\.0 GiB\)"):
        read_idx(path)
