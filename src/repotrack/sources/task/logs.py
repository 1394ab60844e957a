"""girar's three log formats -> numbered, timestamped lines (altrepo §3.2 "Log formats").

- ``events``: ``2020-May-15 10:30:00 :: ...``; the message is the text after the
  last `` :: ``; untimed lines inherit the previous time; a log whose first line has
  no time is skipped (the original's rule).
- ``build``: ``[HH:MM:SS]`` offsets from the start. girar records no start, so the
  base is the file's mtime, as in the original (times land after the real end); a
  line without an offset (a compiler's message) is dated at that base, as ALTRepo
  dates it, not at the previous line's offset.
- ``srpm``: syslog ``<13>Sep 13 17:53:14``; the year comes from the file's mtime
  (the year before when that date would be after the mtime; 29 February is parsed
  with its year, so it never fails). An untimed line keeps the previous time, the
  first falls back to the mtime.

Lines are numbered from 1 and decoded as UTF-8 with ``backslashreplace``; every
message is stripped of surrounding white space, as ALTRepo stores them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from repotrack.sources.task.files import TaskFiles
from repotrack.sources.task.records import LogLine, TaskLog

__all__ = ["read_build_log", "read_events_log", "read_srpm_log"]

_EVENT_TIME = re.compile(r"^(\d{4}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2})")
_BUILD_OFFSET = re.compile(r"^\[(\d{2}):(\d{2}):(\d{2})\]\s?")
_SYSLOG_TIME = re.compile(r"^<\d+>([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2})\s?")


def read_events_log(files: TaskFiles, path: Path, hash_string: str) -> TaskLog | None:
    lines: list[LogLine] = []
    current: datetime | None = None
    for number, text in enumerate(files.lines(path), start=1):
        match = _EVENT_TIME.match(text)
        if match:
            current = datetime.strptime(match.group(1), "%Y-%b-%d %H:%M:%S").replace(tzinfo=UTC)
            message = text.rsplit(" :: ", 1)[-1] if " :: " in text else text[match.end() :]
        elif current is None:
            return None
        else:
            message = text
        lines.append(LogLine(number, current, message.strip()))
    return TaskLog("events", hash_string, path, tuple(lines))


def read_build_log(files: TaskFiles, path: Path, hash_string: str) -> TaskLog:
    base = files.mtime(path)
    lines: list[LogLine] = []
    for number, text in enumerate(files.lines(path), start=1):
        match = _BUILD_OFFSET.match(text)
        when = base
        if match:
            hours, minutes, seconds = (int(g) for g in match.groups())
            when = base + timedelta(hours=hours, minutes=minutes, seconds=seconds)
            text = text[match.end() :]
        lines.append(LogLine(number, when, text.strip()))
    return TaskLog("build", hash_string, path, tuple(lines))


def read_srpm_log(files: TaskFiles, path: Path, hash_string: str) -> TaskLog:
    mtime = files.mtime(path)
    lines: list[LogLine] = []
    current = mtime
    for number, text in enumerate(files.lines(path), start=1):
        match = _SYSLOG_TIME.match(text)
        if match:
            current = _syslog_time(match.group(1), mtime)
            text = text[match.end() :]
        lines.append(LogLine(number, current, text.strip()))
    return TaskLog("srpm", hash_string, path, tuple(lines))


def _syslog_time(stamp: str, mtime: datetime) -> datetime:
    """A year-less syslog stamp, placed in the year of ``mtime`` (or the one before)."""
    stamp = " ".join(stamp.split())
    for year in (mtime.year, mtime.year - 1):
        try:
            when = datetime.strptime(f"{year} {stamp}", "%Y %b %d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:  # 29 February of a common year
            continue
        if when <= mtime + timedelta(days=1):
            return when
    return mtime
