"""Real H.264 files: exact random-access decoding of wanted frames, and clear errors for bad files."""

import pytest
import torch

from transformrec.data.video_io import CorruptVideoError, decode_frames, probe_video, write_video

try:
    import cv2  # noqa: F401 - only whether OpenCV is there
except ImportError:
    HAVE_OPENCV = False
else:
    HAVE_OPENCV = True


def binary_counter(length, size=32):
    """Frame t shows t in binary: column block b is white where bit b of t is set (robust to lossy coding)."""
    bits = (torch.arange(length).view(-1, 1) >> torch.arange(8)) & 1  # T × 8
    columns = bits.repeat_interleave(size // 8, dim=1).to(torch.uint8) * 255  # T × size
    return columns.view(length, 1, size, 1).expand(length, size, size, 3).contiguous()


def read_counter(frames):
    size = frames.shape[2]
    bits = frames[:, size // 2, :, 0].float().view(frames.shape[0], 8, size // 8).mean(-1) > 127
    return (bits.long() << torch.arange(8)).sum(1).tolist()


@pytest.fixture(scope="module")
def counter_video(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("video") / "counter.mp4", binary_counter(100), fps=25, gop=8)


def test_probe_reads_length_rate_and_size(counter_video):
    info = probe_video(counter_video)
    assert (info.num_frames, info.fps, info.height, info.width) == (100, 25.0, 32, 32)


DECODERS = ["pyav", pytest.param("opencv", marks=pytest.mark.skipif(not HAVE_OPENCV, reason="no OpenCV"))]


@pytest.mark.parametrize("decoder", DECODERS)
def test_decodes_exactly_the_requested_frames_in_the_requested_order(counter_video, decoder):
    wanted = [57, 3, 99, 57, 0, 40]  # unordered, repeated, both ends: needs seeking back and forth
    frames = decode_frames(counter_video, torch.tensor(wanted), decoder=decoder)
    assert frames.shape == (6, 32, 32, 3) and frames.dtype == torch.uint8
    assert read_counter(frames) == wanted


@pytest.mark.parametrize("decoder", DECODERS)
def test_decoding_a_late_clip_matches_decoding_the_whole_file(counter_video, decoder):
    whole = decode_frames(counter_video, list(range(100)), decoder=decoder)
    late = decode_frames(counter_video, list(range(80, 96)), decoder=decoder)
    assert torch.equal(late, whole[80:96])
    assert read_counter(late) == list(range(80, 96))  # seeking by frame number lands on the right frame


@pytest.mark.parametrize("decoder", DECODERS)
def test_frames_past_the_end_and_broken_files_raise_errors_naming_the_file(counter_video, tmp_path, decoder):
    with pytest.raises(CorruptVideoError, match="counter.mp4: frames \\[100\\]"):
        decode_frames(counter_video, [98, 100], decoder=decoder)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video at all" * 100)
    with pytest.raises(CorruptVideoError, match="garbage.mp4"):
        probe_video(garbage)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(counter_video.read_bytes()[: counter_video.stat().st_size // 3])
    with pytest.raises(CorruptVideoError, match="truncated.mp4"):
        decode_frames(truncated, [90], decoder=decoder)
    with pytest.raises(ValueError, match="decoder must be one of"):
        decode_frames(counter_video, [1], decoder="gstreamer")


def test_writer_rejects_odd_sizes_and_wrong_types(tmp_path):
    with pytest.raises(ValueError, match="even"):
        write_video(tmp_path / "odd.mp4", torch.zeros(4, 31, 32, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "float.mp4", torch.zeros(4, 32, 32, 3))


def write_variable_rate(path, frames):
    """An H.264 mp4 whose frames last 40 ms and 100 ms in turn (25 and 10 fps), as phones write them."""
    from fractions import Fraction

    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.height, stream.width, stream.pix_fmt = frames.shape[1], frames.shape[2], "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"crf": "18", "g": "8", "bf": "0"}
        shown_at = 0
        for index, array in enumerate(frames.numpy()):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts, frame.time_base = shown_at, Fraction(1, 1000)
            shown_at += 40 if index % 2 == 0 else 100
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize("decoder", DECODERS)
def test_a_variable_frame_rate_video_decodes_by_presentation_order(tmp_path, decoder):
    """Frame i is the i-th frame shown; pts / mean frame duration gave frame 58 for 59 (and 'missing' frames).
    OpenCV's seek by frame number lands on the right frame of this file too (checked, not assumed)."""
    path = write_variable_rate(tmp_path / "vfr.mp4", binary_counter(60))
    assert probe_video(path).num_frames == 60
    wanted = [59, 0, 1, 2, 31, 30, 58]
    assert read_counter(decode_frames(path, wanted, decoder=decoder)) == wanted
    assert read_counter(decode_frames(path, [41, 40], decoder=decoder)) == [41, 40]  # a seek past keyframes
    assert read_counter(decode_frames(path, list(range(60)), decoder=decoder)) == list(range(60))
