"""Skipping items that fail to decode, counted, instead of failing the run.

Why: a long run must not die at hour three because one file of thousands has a truncated
packet. A data set whose item fails to decode returns the next item that does (wrapping
around, so the choice is a function of the index alone and the batch stays deterministic) and
records the failure in its ``skipped`` mapping, which the run can report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def first_decodable(
    index: int,
    count: int,
    load: Callable[[int], T],
    error: type[Exception],
    skipped: dict[str, str],
    name: Callable[[int], object],
    what: str = "item",
) -> T:
    """``load(index)``, or ``load`` of the next index (mod ``count``) that does not raise ``error``.

    Each failure is recorded as ``skipped[str(name(i))] = message`` and logged; when no item
    decodes, ``error`` is raised saying so.
    """
    for attempt in range(count):
        current = (index + attempt) % count
        try:
            return load(current)
        except error as failure:
            skipped[str(name(current))] = str(failure)
            log.warning("skipping %s", failure)
    raise error(f"no decodable {what} left")
