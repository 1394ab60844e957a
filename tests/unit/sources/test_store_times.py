"""Dates of vulnerability records held within what the store's ``DateTime`` holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from repotrack.sources.vulns.records import (
    EPOCH_START,
    STORE_END,
    epoch_time,
    parse_timestamp,
    store_time,
)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),  # zone-less: UTC
        ("2024-05-01T13:00:00+03:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", EPOCH_START),  # Go's zero time: unset
        ("1969-12-31T23:59:59Z", EPOCH_START),
        ("2106-02-07T06:28:15Z", STORE_END),
        ("2106-02-07T06:28:16Z", STORE_END),
        ("9999-12-31T23:59:59-05:00", STORE_END),  # past Python's range once in UTC
        ("0001-01-01T00:00:00+05:00", EPOCH_START),  # before it
    ],
)
def test_parsed_times_are_within_the_store(given: str, stored: datetime) -> None:
    assert parse_timestamp(given, name="published") == stored


def test_naive_and_aware_times() -> None:
    assert store_time(datetime(2000, 1, 1)) == datetime(2000, 1, 1, tzinfo=UTC)
    east = timezone(timedelta(hours=3))
    assert store_time(datetime(1970, 1, 1, 2, tzinfo=east)) == EPOCH_START


@pytest.mark.parametrize(
    ("seconds", "stored"),
    [
        (0, EPOCH_START),
        (1714557600, datetime(2024, 5, 1, 10, tzinfo=UTC)),
        (-1, EPOCH_START),
        (2**32, STORE_END),
        (10**20, STORE_END),  # beyond what datetime.fromtimestamp takes
        (-(10**20), EPOCH_START),
    ],
)
def test_epoch_seconds(seconds: float, stored: datetime) -> None:
    assert epoch_time(seconds) == stored
