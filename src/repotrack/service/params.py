"""Query and path parameters shared by the ``/api/v1`` routes, bounded for the databases.

SQLite and PostgreSQL hold 64-bit signed integers; Python's do not stop there, and a
larger value reached the driver as an ``OverflowError`` (a 500, found by schemathesis).
Every integer a route takes is therefore bounded here, and FastAPI answers 422 for
anything beyond.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

__all__ = ["SQL_INT_MAX", "ItemId", "Offset", "TrackingId"]

#: The largest signed 64-bit integer: the widest integer column either database holds.
SQL_INT_MAX = 2**63 - 1

ItemId = Annotated[int, Path(ge=1, le=SQL_INT_MAX, description="Item id")]
Offset = Annotated[int, Query(ge=0, le=SQL_INT_MAX, description="Rows to skip")]
TrackingId = Annotated[
    int | None, Query(ge=1, le=SQL_INT_MAX, description="Only issues of this item")
]
