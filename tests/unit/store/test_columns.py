"""Column types for inserts: one lookup for the whole store, tables made later still found."""

from __future__ import annotations

from typing import Any

import pytest

from repotrack.errors import InputError, StoreError
from repotrack.store import Store
from repotrack.store.columns import ColumnTypes


class _Counting:
    """The store's query, counted."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls = 0

    def __call__(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        self.calls += 1
        return self.store.query(sql, params)


def test_one_lookup_serves_every_table(store: Store) -> None:
    query = _Counting(store)
    types = ColumnTypes(query, store.url)
    assert types.of("PackageHash", ("pkgh_mmh", "pkgh_md5")) == ["UInt64", "FixedString(16)"]
    assert types.of("Packages", ("pkg_hash", "pkg_name")) == ["UInt64", "String"]
    assert types.of("Files", ("pkg_hash",)) == ["UInt64"]
    assert query.calls == 1


def test_a_table_made_or_altered_after_the_lookup_is_read_again(store: Store) -> None:
    query = _Counting(store)
    types = ColumnTypes(query, store.url)
    types.of("Packages", ("pkg_hash",))
    store.command("CREATE TABLE later (a UInt8) ENGINE = Memory")
    assert types.of("later", ("a",)) == ["UInt8"]
    store.command("ALTER TABLE later ADD COLUMN b Int32")
    assert types.of("later", ("a", "b")) == ["UInt8", "Int32"]
    assert query.calls == 3


def test_unknown_tables_and_columns_are_clear_errors(store: Store) -> None:
    types = ColumnTypes(store.query, store.url)
    with pytest.raises(StoreError, match="table nowhere does not exist"):
        types.of("nowhere", ("a",))
    with pytest.raises(InputError, match="no such column"):
        types.of("Packages", ("pkg_hash", "nope"))
