"""Progress of every long step: a bar on a terminal, plain lines in a log.

Why: a run started under ``nohup``, SLURM or CI writes to a file, where a tqdm bar is either
hidden or a stream of carriage returns; a researcher reading that log wants a line now and then
saying where the run is, how fast it goes and when it will end. :func:`progress` is the one
factory every loop of the package uses: a tqdm bar when stderr is a terminal (or a notebook),
:class:`LineProgress` otherwise, nothing when progress is off.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

from tqdm.auto import tqdm

LINES_PER_RUN = 20
"""A loop of known length prints about this many lines (one every 5 %), plus its last."""
LINE_INTERVAL_S = 60.0
"""And at least one line a minute while it advances, so a slow loop is never silent for long."""


def on_terminal(stream: IO[str] | None = None) -> bool:
    """Whether progress bars can be drawn: ``stream`` (stderr) is a terminal, or this is a notebook."""
    stream = sys.stderr if stream is None else stream
    return bool(getattr(stream, "isatty", lambda: False)()) or _in_notebook()


def _in_notebook() -> bool:
    """Whether this code runs inside a Jupyter kernel (not merely in a process that imported one)."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


class LineProgress:
    """A tqdm-like progress that writes one plain line every ``every`` steps or ``interval`` seconds.

    A line reads ``pretrain: 1200/20000 (6.0 %) loss 0.812 acc/transform 0.731 | 3.4 it/s |
    elapsed 5m52s, ETA 1h32m``. Inner loops (``leave=False``) print on the time interval only, so
    short ones stay quiet. Supports what the package's loops use of tqdm: iteration, ``update``,
    ``set_postfix``, ``close``.
    """

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        total: int | None = None,
        initial: int = 0,
        desc: str = "",
        leave: bool = True,
        every: int | None = None,
        interval: float = LINE_INTERVAL_S,
        stream: IO[str] | None = None,
    ) -> None:
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.iterable, self.total, self.n, self.desc = iterable, total, initial, desc
        if every is None:
            every = max(1, total // LINES_PER_RUN) if (leave and total) else 0
        self.every, self.interval, self.stream = every, interval, stream
        self.postfix: dict[str, Any] = {}
        self._start_n, self._started = initial, time.perf_counter()
        self._last_n, self._last_time = initial, self._started
        self.lines = 0

    def __iter__(self) -> Iterator[Any]:
        if self.iterable is None:
            raise TypeError("LineProgress without an iterable cannot be iterated; call update()")
        for item in self.iterable:
            yield item
            self.update(1)

    def set_postfix(self, values: dict[str, Any] | None = None, refresh: bool = True, **more: Any) -> None:
        """The values the next line shows (``refresh`` is tqdm's; a line is printed only by :meth:`update`)."""
        self.postfix = {**(values or {}), **more}

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.perf_counter()
        if (self.every and self.n - self._last_n >= self.every) or now - self._last_time >= self.interval:
            self._emit(now)

    def close(self) -> None:
        if self.n != self._last_n and (self.every or self.lines):  # the end of a loop that spoke
            self._emit(time.perf_counter())

    def line(self, now: float | None = None) -> str:
        """The progress line for the current position."""
        now = time.perf_counter() if now is None else now
        elapsed = max(now - self._started, 1e-9)
        rate = (self.n - self._start_n) / elapsed
        position = f"{self.n}/{self.total} ({100 * self.n / self.total:.1f} %)" if self.total else f"{self.n}"
        shown = " ".join(f"{key} {value}" for key, value in self.postfix.items())
        timing = f"{rate:.2f} it/s | elapsed {_duration(elapsed)}"
        if self.total and rate > 0:
            timing += f", ETA {_duration(max(self.total - self.n, 0) / rate)}"
        return f"{self.desc}: {position}{' ' + shown if shown else ''} | {timing}"

    def _emit(self, now: float) -> None:
        stream = sys.stderr if self.stream is None else self.stream
        print(self.line(now), file=stream, flush=True)
        self._last_n, self._last_time = self.n, now
        self.lines += 1


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    initial: int = 0,
    desc: str = "",
    enabled: bool = True,
    leave: bool = True,
) -> Any:
    """A progress display for one loop: a tqdm bar on a terminal or in a notebook, plain lines
    (:class:`LineProgress`) in a log, a silent (disabled) tqdm when ``enabled`` is false."""
    if enabled and not on_terminal():
        return LineProgress(iterable, total=total, initial=initial, desc=desc, leave=leave)
    return tqdm(iterable, total=total, initial=initial, desc=desc, disable=not enabled, leave=leave)
