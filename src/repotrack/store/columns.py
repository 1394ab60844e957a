"""The column types of a table, asked once per store and table.

Both backends convert insert values by column type (``encode``), so both ask the
server the same way and refuse unknown columns before sending any data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from repotrack.errors import InputError, StoreError

__all__ = ["ColumnTypes"]

Query = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]


class ColumnTypes:
    """A per-store cache of ``system.columns``."""

    def __init__(self, query: Query, url: str) -> None:
        self._query = query
        self._url = url
        self._tables: dict[str, dict[str, str]] = {}

    def of(self, table: str, columns: Sequence[str]) -> list[str]:
        """The types of ``columns`` in ``table``, in order."""
        known = self._tables.get(table)
        if known is None:
            rows = self._query(
                "SELECT name, type FROM system.columns "
                "WHERE database = currentDatabase() AND table = {t:String}",
                {"t": table},
            )
            if not rows:
                raise StoreError(f"table {table} does not exist in {self._url}")
            known = {str(name): str(type_) for name, type_ in rows}
            self._tables[table] = known
        missing = [c for c in columns if c not in known]
        if missing:
            raise InputError(f"no such column(s): {', '.join(missing)}", path=table)
        return [known[c] for c in columns]
