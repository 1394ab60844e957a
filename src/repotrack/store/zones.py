"""Every time the store holds is UTC, and its engine must read them in UTC.

ClickHouse applies a stored ``DateTime`` column's zone (its type's, which for a column
declared without one is the server's zone, fixed when the table is loaded) in every
function of that column: ``toDate``, ``toString``, ``formatDateTime``, ``toHour``... The
connection's ``session_timezone=UTC`` reaches literals and parameters only. An engine in
another zone therefore puts a snapshot dated June 1st (midnight UTC) on May 31st west of
UTC, and a time late in the UTC day on the next day east of it. The embedded engine is
started in UTC (``chdb_backend._engine_zone_utc``); a server must run in UTC.
"""

from __future__ import annotations

from typing import Final

from repotrack.errors import StoreError

__all__ = ["UTC_NAMES", "require_utc"]

#: Names of the zone that is UTC all year (the IANA database's aliases of it).
UTC_NAMES: Final = frozenset(
    {"UTC", "UCT", "Universal", "Zulu", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich"}
    | {
        f"Etc/{n}"
        for n in ("UTC", "UCT", "Universal", "Zulu", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich")
    }
)


def require_utc(zone: str, *, where: str, fix: str) -> None:
    """A StoreError naming ``where`` and how to ``fix`` it unless ``zone`` is UTC."""
    if zone not in UTC_NAMES:
        raise StoreError(
            f"{where} reads stored times in {zone}, not UTC, so it would put them on other "
            f"days and hours than the store recorded: {fix}"
        )
