"""first_decodable: a failing item is replaced by the next decodable one, wrapping around, and counted."""

import pytest

from transformrec.data.corrupt_items import first_decodable


class BrokenItemError(Exception):
    pass


def _loader(bad: set[int]):
    def load(index: int) -> str:
        if index in bad:
            raise BrokenItemError(f"item {index} truncated")
        return f"item {index}"

    return load


def test_a_good_item_is_returned_as_it_is():
    skipped: dict[str, str] = {}
    assert first_decodable(2, 5, _loader(set()), BrokenItemError, skipped, name=lambda i: i) == "item 2"
    assert skipped == {}


def test_bad_items_are_skipped_wrapping_around_and_recorded():
    skipped: dict[str, str] = {}
    out = first_decodable(3, 5, _loader({3, 4}), BrokenItemError, skipped, name=lambda i: f"clip{i}.mp4")
    assert out == "item 0"
    assert skipped == {"clip3.mp4": "item 3 truncated", "clip4.mp4": "item 4 truncated"}


def test_nothing_decodable_raises_the_error_type_saying_so():
    with pytest.raises(BrokenItemError, match="no decodable video left"):
        first_decodable(0, 3, _loader({0, 1, 2}), BrokenItemError, {}, name=str, what="video")
