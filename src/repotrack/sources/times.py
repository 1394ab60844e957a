"""Times from outside data as the store's ``DateTime`` columns hold them: UTC, from
1970-01-01 (``EPOCH_START``, the store's "unknown") to 2106-02-07 06:28:15."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

__all__ = ["EPOCH_START", "STORE_END", "epoch_time", "store_time"]

EPOCH_START: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: The last second a ``DateTime`` column holds (its first is ``EPOCH_START``).
STORE_END: Final = datetime(2106, 2, 7, 6, 28, 15, tzinfo=UTC)


def store_time(when: datetime) -> datetime:
    """``when`` (aware) in UTC, held within what the store's ``DateTime`` columns hold.

    A time before 1970 is stored as ``EPOCH_START``, the store's "unknown" (Go's zero
    time ``0001-01-01``, which Go-written feeds give for an unset date, among them);
    one after 2106-02-07 as ``STORE_END`` (a far-future "never"). Before 2026-12-07 a
    record dated outside failed its whole batch's insert, and an instant beyond
    Python's own range (``9999-12-31T23:59:59-05:00``) raised an OverflowError that
    ended the load with a traceback. The record's own text (``raw``) keeps its dates
    as given."""
    if when.tzinfo is not None:
        try:
            when = when.astimezone(UTC)
        except OverflowError:  # past year 9999 or before year 1 once in UTC
            return STORE_END if when.year > 1970 else EPOCH_START
    else:
        when = when.replace(tzinfo=UTC)
    return min(max(when, EPOCH_START), STORE_END)


def epoch_time(seconds: float) -> datetime:
    """Epoch ``seconds`` as a stored time (``store_time``), also where Python's own
    range ends (``datetime.fromtimestamp`` raises for those)."""
    try:
        return store_time(datetime.fromtimestamp(seconds, UTC))
    except (OverflowError, OSError, ValueError):
        return STORE_END if seconds > 0 else EPOCH_START
