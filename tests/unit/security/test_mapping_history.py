"""A mapping's history entry and its row: written history first, so a kill between the
two leaves an entry without its row; the rerun writes the row, not a second entry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from repotrack.errors import StoreError
from repotrack.security.mapping import list_mappings, set_mapping, unset_mapping
from repotrack.store import Store

MC = "cpe:2.3:a:midnight-commander:midnight_commander:*:*:*:*:*:*:*:*"


class _KilledBeforeTheRow:
    """A store whose process dies as the mapping row is written (after the history)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if table == "PackagesNameConversion":
            raise StoreError("simulated kill")
        self._store.insert(table, columns, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _history(store: Store) -> list[str]:
    rows = store.query("SELECT pnc_state FROM PncChangeHistory WHERE pkg_name = 'mc' ORDER BY ts")
    return [str(r[0]) for r in rows]


def test_a_rerun_after_a_kill_writes_the_row_not_a_second_entry(store: Store) -> None:
    killed = _KilledBeforeTheRow(store)
    with pytest.raises(StoreError):
        set_mapping(killed, pkg_name="mc", result=MC, user="tester")  # type: ignore[arg-type]
    assert _history(store) == ["active"] and list_mappings(store) == []
    set_mapping(store, pkg_name="mc", result=MC, user="tester")
    assert _history(store) == ["active"]  # before 2026-12-07: ["active", "active"]
    assert [m.result for m in list_mappings(store)] == [MC]

    with pytest.raises(StoreError):
        unset_mapping(killed, pkg_name="mc", result=MC, user="tester")  # type: ignore[arg-type]
    unset_mapping(store, pkg_name="mc", result=MC, user="tester")
    assert _history(store) == ["active", "inactive"] and list_mappings(store) == []


def test_each_completed_change_keeps_its_entry(store: Store) -> None:
    """A change written whole is never taken for a killed one: setting, unsetting and
    setting again are three entries, and setting what is set is an entry too."""
    set_mapping(store, pkg_name="mc", result=MC, user="tester")
    unset_mapping(store, pkg_name="mc", result=MC, user="tester")
    set_mapping(store, pkg_name="mc", result=MC, user="tester", reason="back")
    set_mapping(store, pkg_name="mc", result=MC, user="tester", reason="again")
    assert _history(store) == ["active", "inactive", "active", "active"]
