"""The column types of a table, asked once per store.

Both backends convert insert values by column type (``encode``), so both ask the
server the same way and refuse unknown columns before sending any data.

The first lookup reads the types of every table of the store's database in one query:
a load inserts into about ten tables, and one ``system.columns`` query per table cost
its writer 4-15 ms each (measured on the embedded store with its 121 tables, where
reading them all took 8-10 ms). A table created or altered after that (a migration in
the same process) is read again on its own before a column is called unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from repotrack.errors import InputError, StoreError

__all__ = ["ColumnTypes"]

Query = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]

_ALL: str = (
    "SELECT table, groupArray((name, type)) FROM system.columns "
    "WHERE database = currentDatabase() GROUP BY table"
)
_ONE: str = (
    "SELECT name, type FROM system.columns "
    "WHERE database = currentDatabase() AND table = {t:String}"
)


class ColumnTypes:
    """A per-store cache of ``system.columns``."""

    def __init__(self, query: Query, url: str) -> None:
        self._query = query
        self._url = url
        self._tables: dict[str, dict[str, str]] = {}
        self._filled = False

    def of(self, table: str, columns: Sequence[str]) -> list[str]:
        """The types of ``columns`` in ``table``, in order."""
        if not self._filled:
            self._tables = {
                str(name): {str(column): str(type_) for column, type_ in pairs}
                for name, pairs in self._query(_ALL, {})
            }
            self._filled = True
        known = self._tables.get(table)
        if known is None or any(c not in known for c in columns):
            known = self._reread(table)
        missing = [c for c in columns if c not in known]
        if missing:
            raise InputError(f"no such column(s): {', '.join(missing)}", path=table)
        return [known[c] for c in columns]

    def _reread(self, table: str) -> dict[str, str]:
        """One table's columns as they are now (new since the cache was filled, or
        asked for a column the cache does not know)."""
        rows = self._query(_ONE, {"t": table})
        if not rows:
            raise StoreError(f"table {table} does not exist in {self._url}")
        known = {str(name): str(type_) for name, type_ in rows}
        self._tables[table] = known
        return known
