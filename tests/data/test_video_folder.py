"""VideoFolder: classes from sub-folders, clips at the evaluation speed, corrupt files skipped and counted."""

import torch
from test_video_io import binary_counter, read_counter

from transformrec.data.video_folder import VideoFolder
from transformrec.data.video_io import write_video


def _counter(path, length):
    return write_video(path, binary_counter(length), gop=8)


def test_clips_follow_the_speed_and_short_videos_limit_it(tmp_path):
    _counter(tmp_path / "a" / "long.mp4", 120)  # fits speed 2 (61 frames), not 3 (121)
    _counter(tmp_path / "b" / "short.mp4", 40)  # fits speed 1 only
    folder = VideoFolder(tmp_path, speed=3)
    long_clip, long_label = folder[0]
    short_clip, short_label = folder[1]
    assert (long_label, short_label) == (0, 1)
    long_index = torch.tensor(read_counter((long_clip * 255).permute(1, 2, 3, 0)))
    short_index = torch.tensor(read_counter((short_clip * 255).permute(1, 2, 3, 0)))
    assert long_index.diff().tolist() == [4] * 15 and short_index.diff().tolist() == [2] * 15
    assert int(long_index[0]) == (120 - 61) // 2  # the centre clip


def test_unreadable_and_too_short_files_are_skipped_and_counted(tmp_path):
    _counter(tmp_path / "a" / "good.mp4", 20)
    _counter(tmp_path / "a" / "tiny.mp4", 10)  # shorter than one clip
    (tmp_path / "a" / "broken.mp4").write_bytes(b"\x00" * 500)
    folder = VideoFolder(tmp_path, speed=0)
    assert [p.name for p in folder.files] == ["good.mp4"]
    assert sorted(name.split("/")[-1] for name in folder.skipped) == ["broken.mp4", "tiny.mp4"]


def test_a_file_that_breaks_while_decoding_is_replaced_by_the_next_one(tmp_path):
    good = _counter(tmp_path / "a" / "1_good.mp4", 40)
    bad = _counter(tmp_path / "a" / "0_bad.mp4", 40)
    folder = VideoFolder(tmp_path, speed=1)
    bad.write_bytes(good.read_bytes()[:300])  # truncated after the scan
    clip, _ = folder[0]
    assert clip.shape[1] == 16 and str(bad) in folder.skipped


def test_cached_frames_give_the_clips_of_direct_decoding_and_the_disk_cache_is_decoded_once(tmp_path, monkeypatch):
    import pytest

    import transformrec.data.video_folder as video_folder

    _counter(tmp_path / "videos" / "a" / "one.mp4", 70)
    root, cache = tmp_path / "videos", tmp_path / "cache"
    plan = torch.tensor([3, 5, 7, 60, 61, 62])
    direct = VideoFolder(root, image_size=24).clip(0, plan)
    for mode in ("memory", "disk"):
        cached = VideoFolder(root, image_size=24, frame_cache=mode, cache_dir=cache).clip(0, plan)
        assert (cached - direct).abs().max() <= 0.5 / 255 + 1e-6  # uint8 rounding of the resized frames
        assert read_counter((cached * 255).permute(1, 2, 3, 0)) == plan.tolist()
    assert len(list(cache.glob("one-*.npy"))) == 1

    def no_decoding(*args, **kwargs):
        raise AssertionError("a cached video must not be decoded again")

    monkeypatch.setattr(video_folder, "decode_frames", no_decoding)
    again = VideoFolder(root, image_size=24, frame_cache="disk", cache_dir=cache)
    assert torch.equal(
        again.clip(0, plan), VideoFolder(root, image_size=24, frame_cache="disk", cache_dir=cache).clip(0, plan)
    )
    monkeypatch.undo()
    next(cache.glob("one-*.npy")).write_bytes(b"damaged")  # a damaged cache file is decoded again
    repaired = VideoFolder(root, image_size=24, frame_cache="disk", cache_dir=cache).clip(0, plan)
    assert read_counter((repaired * 255).permute(1, 2, 3, 0)) == plan.tolist()
    with pytest.raises(ValueError, match="frame_cache must be one of"):
        VideoFolder(root, frame_cache="gpu")
