"""How a load's progress is shown: a redrawn bar on a terminal, plain lines otherwise.

Both show the same figures (``LoadMeter``): packages done of the planned total, the
percentage, how many were new, the rate and the time left. The rate is packages per
second since the load began, the figure the summary line ends with, so the last
progress report and the summary agree. A hand-off to the service shows the same
figures from the job's polled progress (``JobMeter``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # Rich's progress is imported when a bar is drawn, not for plain lines
    from rich.console import Console
    from rich.progress import Progress

__all__ = [
    "PLAIN_INTERVAL",
    "BarProgress",
    "EveryNProgress",
    "LineProgress",
    "LoadMeter",
    "job_progress",
]

#: Seconds between two plain progress lines (logs and CI output stay short).
PLAIN_INTERVAL = 5.0

Clock = Callable[[], float]


class LoadMeter:
    """Counts of one load and the figures derived from them."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.started = clock()
        self.total: int | None = None
        self.done = 0
        self.new = 0

    def start(self, *, total: int) -> None:
        self.total = total

    def advance(self, *, new: bool) -> None:
        self.done += 1
        self.new += int(new)

    def rate(self) -> float:
        elapsed = self.clock() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        rate = self.rate()
        if self.total is None or rate <= 0:
            return None
        return max(self.total - self.done, 0) / rate

    def text(self) -> str:
        """``120/800 packages (15%), 40 new, 60 packages/s, 0:00:11 left``."""
        if self.total:
            share = f"{self.done}/{self.total} packages ({100 * self.done // self.total}%)"
        else:
            share = f"{self.done} packages"
        eta = self.eta()
        left = f", {_clock_text(eta)} left" if eta is not None else ""
        return f"{share}, {self.new} new, {self.rate():.0f} packages/s{left}"


def _clock_text(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class LineProgress(LoadMeter):
    """Plain lines on a stream that is not a terminal: one every ``interval`` seconds and,
    if any was printed, one when the last package is done.

    A load shorter than ``interval`` prints none, so a quick load that fails still
    ends with its one error line alone.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        interval: float = PLAIN_INTERVAL,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self.stream = stream
        self.interval = interval
        self._last = self.started
        self._printed = False

    def advance(self, *, new: bool) -> None:
        super().advance(new=new)
        now = self.clock()
        if (self.done == self.total and self._printed) or now - self._last >= self.interval:
            self._last = now
            self._printed = True
            self._say(self.text())

    def _say(self, line: str) -> None:
        print(line, file=self.stream or sys.stderr, flush=True)


class BarProgress(LoadMeter):
    """A redrawn bar on a terminal: bar, percent, done/total, new, rate, time left."""

    def __init__(self, progress: Progress, clock: Clock = time.monotonic) -> None:
        super().__init__(clock)
        self._progress = progress
        self._task = progress.add_task("loading", total=None, new=0, rate=0.0)

    def start(self, *, total: int) -> None:
        super().start(total=total)
        self._progress.update(self._task, total=total)

    def advance(self, *, new: bool) -> None:
        super().advance(new=new)
        self._progress.update(self._task, completed=self.done, new=self.new, rate=self.rate())

    def show(self, *, done: int, new: int, total: int | None) -> None:
        """Set the counts at once (a polled job), rather than package by package."""
        if total is not None and self.total != total:
            self.start(total=total)
        self.done, self.new = done, new
        self._progress.update(self._task, completed=done, new=new, rate=self.rate())


class EveryNProgress(LoadMeter):
    """The original's ``--verbose``: a line on stderr every ``every`` packages."""

    def __init__(self, every: int = 1000) -> None:
        super().__init__()
        self._every = every

    def advance(self, *, new: bool) -> None:
        super().advance(new=new)
        if self.done % self._every == 0:
            print(f"{self.done} packages processed ({self.new} new)", file=sys.stderr)


def bar_columns() -> tuple[object, ...]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    return (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TextColumn("({task.fields[new]} new)"),
        TextColumn("{task.fields[rate]:.0f} packages/s"),
        TimeRemainingColumn(),
    )


@contextmanager
def bar(console: Console) -> Iterator[BarProgress]:
    from rich.progress import Progress

    from repotrack.cli.common import real_console

    with Progress(*bar_columns(), console=real_console(console), transient=True) as progress:  # type: ignore[arg-type]
        yield BarProgress(progress)


@contextmanager
def job_progress(
    console: Console, *, interval: float = PLAIN_INTERVAL, stream: TextIO | None = None
) -> Iterator[Callable[[dict[str, object]], None]]:
    """``show(progress)`` for a polled job's ``{"packages", "new", "total"}``: a bar on
    a terminal, plain lines (at most one every ``PLAIN_INTERVAL`` s) otherwise."""
    if console.is_terminal:
        with bar(console) as shown:
            yield lambda p: shown.show(
                done=_int(p.get("packages")), new=_int(p.get("new")), total=_total(p)
            )
        return
    lines = LineProgress(stream, interval=interval)

    def show(p: dict[str, object]) -> None:
        total = _total(p)
        if total is not None and lines.total is None:
            lines.start(total=total)
        done = _int(p.get("packages"))
        while lines.done < done:  # replay the packages done since the last poll
            lines.advance(new=lines.new < _int(p.get("new")))

    yield show


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _total(progress: dict[str, object]) -> int | None:
    total = progress.get("total")
    return total if isinstance(total, int) else None
