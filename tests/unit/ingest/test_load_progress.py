"""What a load's progress shows: the planned total, percent, rate and time left.

The renderers are driven by a real load of the test trees; times come from a clock
the test steps, so the figures are exact and no assertion depends on machine speed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from repotrack.cli.progress import BarProgress, LineProgress, bar, job_progress
from repotrack.ingest import load_repo
from repotrack.store import Store
from tests.unit.store.storeutil import open_fresh_store

DAY = date(2024, 5, 1)


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class OneSecondPerPackage(LineProgress):
    """Each package takes exactly one second of ``clock``."""

    def __init__(self, out: io.StringIO, clock: Clock) -> None:
        super().__init__(out, interval=3.0, clock=clock)
        self._clock = clock

    def advance(self, *, new: bool) -> None:
        self._clock.now += 1.0
        super().advance(new=new)


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def test_plain_lines_show_total_percent_rate_and_time_left(store: Store, trees: Path) -> None:
    out = io.StringIO()
    progress = OneSecondPerPackage(out, Clock())
    summary = load_repo(store, branch="p10", path=trees / "apt", date=DAY, progress=progress)
    lines = out.getvalue().splitlines()
    assert progress.total == summary.packages == 8
    assert lines == [
        "3/8 packages (37%), 3 new, 1 packages/s, 0:00:05 left",
        "6/8 packages (75%), 6 new, 1 packages/s, 0:00:02 left",
        "8/8 packages (100%), 8 new, 1 packages/s, 0:00:00 left",
    ]


def test_a_short_load_prints_no_plain_line(store: Store, trees: Path) -> None:
    out = io.StringIO()
    load_repo(store, branch="p10", path=trees / "apt", date=DAY, progress=LineProgress(out))
    assert out.getvalue() == ""  # well under PLAIN_INTERVAL: an error would stay alone


def test_rate_is_the_summary_figure() -> None:
    clock = Clock()
    meter = LineProgress(io.StringIO(), clock=clock)  # started at t=0
    meter.start(total=100)
    for _ in range(50):
        meter.advance(new=True)
    clock.now = 10.0
    assert meter.rate() == 50 / 10  # packages / seconds, as LoadSummary.line() computes it
    assert meter.eta() == 50 / 5


def test_bar_on_a_terminal(store: Store, trees: Path) -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160)
    with bar(console) as shown:
        assert isinstance(shown, BarProgress)
        load_repo(store, branch="p10", path=trees / "apt", date=DAY, progress=shown)
        assert (shown.total, shown.done, shown.new) == (8, 8, 8)
    drawn = screen.getvalue()
    assert "8/8" in drawn and "100%" in drawn and "packages/s" in drawn


def test_hand_off_plain_lines_follow_the_polled_job() -> None:
    console = Console(file=io.StringIO(), force_terminal=False)
    out = io.StringIO()
    with job_progress(console, interval=0.0, stream=out) as show:
        show({"packages": 0, "new": 0, "total": None})
        show({"packages": 5, "new": 2, "total": 10})
        show({"packages": 10, "new": 4, "total": 10})
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("10/10 packages (100%), 4 new, ")
    assert "5/10 packages (50%), 2 new, " in out.getvalue()
    assert "\r" not in out.getvalue()  # lines, not a redrawn bar


def test_hand_off_bar_takes_the_polled_counts() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160)
    with job_progress(console) as show:
        show({"packages": 5, "new": 2, "total": 10})
        show({"packages": 10, "new": 4, "total": 10})
    drawn = screen.getvalue()
    assert "10/10" in drawn and "100%" in drawn and "(4 new)" in drawn
