"""The Store contract, run against every backend.

chDB always runs (a fresh directory per test). A ClickHouse server runs only when
REPOTRACK_TEST_CLICKHOUSE_URL names one (it is not one of CI's services); each test
then gets its own database there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from repotrack.errors import InputError, StoreError
from repotrack.store import Store, migrate, migration_status, open_store
from repotrack.store.native import encode_block
from tests.unit.store.storeutil import open_fresh_store

# Read at import time: the autouse fixture scrubs REPOTRACK_* before each test.
CLICKHOUSE_URL = os.environ.get("REPOTRACK_TEST_CLICKHOUSE_URL")


def _server_store() -> Iterator[Store]:
    if not CLICKHOUSE_URL:
        pytest.skip(
            "no ClickHouse server: set REPOTRACK_TEST_CLICKHOUSE_URL=clickhouse://user:pw@host:8123/db"
            " to run the contract suite against one"
        )
    name = f"repotrack_test_{uuid.uuid4().hex[:12]}"
    with open_store(CLICKHOUSE_URL) as admin:
        admin.command(f"CREATE DATABASE {name}")
    base = CLICKHOUSE_URL.rsplit("/", 1)[0]
    store = open_store(f"{base}/{name}")
    try:
        migrate(store)
        yield store
    finally:
        store.close()
        with open_store(CLICKHOUSE_URL) as admin:
            admin.command(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture(params=["chdb", "clickhouse"])
def any_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> Iterator[Store]:
    if request.param == "chdb":
        yield from open_fresh_store(tmp_path_factory, tmp_path / "store")
    else:
        yield from _server_store()


ROOT = uuid.UUID("11111111-2222-3333-4444-555555555555")
ZERO = uuid.UUID(int=0)
DAY = datetime(2024, 5, 1, tzinfo=UTC)


def test_types_round_trip(any_store: Store) -> None:
    any_store.insert(
        "PackageSetName",
        (
            "pkgset_uuid",
            "pkgset_puuid",
            "pkgset_ruuid",
            "pkgset_depth",
            "pkgset_nodename",
            "pkgset_date",
            "pkgset_tag",
            "pkgset_complete",
            "pkgset_kv.k",
            "pkgset_kv.v",
        ),
        [(ROOT, str(ZERO), ROOT, 0, "p10", DAY, "tag", 1, ["class", "x"], ["repository", "y"])],
    )
    rows = any_store.query(
        "SELECT pkgset_uuid, pkgset_puuid, pkgset_date, pkgset_kv.k, pkgset_kv.v, "
        "toDate(pkgset_date), mapFromArrays(pkgset_kv.k, pkgset_kv.v) FROM PackageSetName"
    )
    assert rows == [
        (
            ROOT,
            ZERO,
            DAY,
            ["class", "x"],
            ["repository", "y"],
            date(2024, 5, 1),
            {"class": "repository", "x": "y"},
        )
    ]


def test_fixed_string_is_padded_and_returned_as_bytes(any_store: Store) -> None:
    any_store.insert(
        "PackageHash",
        ("pkgh_mmh", "pkgh_md5", "pkgh_sha1", "pkgh_sha256", "pkgh_blake2b"),
        [(1, b"\x00\xff" * 8, b"", "abc", b"\x01")],
    )
    ((md5, sha1, sha256, blake),) = any_store.query(
        "SELECT pkgh_md5, pkgh_sha1, pkgh_sha256, pkgh_blake2b FROM PackageHash"
    )
    assert md5 == b"\x00\xff" * 8
    assert sha1 == b"\0" * 20
    assert sha256 == b"abc" + b"\0" * 29
    assert blake == b"\x01" + b"\0" * 63
    (hexed,) = any_store.query("SELECT pkgh_md5 FROM PackageHash_view")
    assert hexed == ("00ff" * 8,)


#: Every character Python's ``str.splitlines`` ends a line at, besides ``\n``.
LINE_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def test_text_with_any_line_break_character_reads_back_as_written(any_store: Store) -> None:
    """A changelog or summary may hold U+0085 (NEXT LINE: cp1252's ellipsis byte read as
    Latin-1) or another of the characters ``str.splitlines`` breaks at; a row holding
    one is one row, read back as written, in every column and row position."""
    texts = [f"before{ch}after" for ch in LINE_BREAKS] + [LINE_BREAKS, "plain"]
    rows = [(1000 + n, text) for n, text in enumerate(texts)]
    any_store.insert("Changelog", ("chlog_hash", "chlog_text"), rows)
    stored = any_store.query("SELECT chlog_hash, chlog_text FROM Changelog ORDER BY chlog_hash")
    assert stored == rows
    ((count, last),) = any_store.query(
        "SELECT count(), argMax(chlog_text, chlog_hash) FROM Changelog "
        "WHERE chlog_hash < 1000 + {n:UInt64}",
        {"n": len(texts) - 2},
    )
    assert (count, last) == (len(texts) - 2, texts[-3])


def test_enum_by_name_or_number(any_store: Store) -> None:
    any_store.insert(
        "Depends",
        ("pkg_hash", "dp_name", "dp_version", "dp_flag", "dp_type"),
        [(1, "libc.so.6", "", 0, "require"), (1, "foo", "1.0", 8, 4)],
    )
    rows = any_store.query("SELECT dp_name, dp_type FROM Depends ORDER BY dp_name")
    assert rows == [("foo", "provide"), ("libc.so.6", "require")]


def test_params_are_data_never_sql(any_store: Store) -> None:
    hostile = [
        "x' OR 1=1 --",
        "'; DROP TABLE Packages; --",
        "back\\slash\ttab\nnewline\\",
        "{other:String}",
        "\\'",
        "ünïcødé",
    ]
    for value in hostile:
        assert any_store.query("SELECT {v:String}", {"v": value}) == [(value,)]
    rows = any_store.query(
        "SELECT count() FROM Packages WHERE pkg_name = {n:String}", {"n": "x' OR '1'='1"}
    )
    assert rows == [(0,)]
    assert any_store.query("EXISTS TABLE Packages") == [(1,)]


def test_array_and_typed_params(any_store: Store) -> None:
    names = ["a'b", "c\\d", "e,f]"]
    assert any_store.query("SELECT {a:Array(String)}", {"a": names}) == [(names,)]
    when = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    row = any_store.query(
        "SELECT {n:UInt64}, {d:DateTime}, {day:Date}, {u:UUID}, {f:Float64}, {b:Bool}",
        {"n": 2**64 - 1, "d": when, "day": date(2024, 5, 1), "u": ROOT, "f": 0.5, "b": True},
    )
    assert row == [(2**64 - 1, when, date(2024, 5, 1), ROOT, 0.5, True)]


def test_query_dicts_and_command(any_store: Store) -> None:
    any_store.command("CREATE TABLE scratch (a UInt8, b String) ENGINE = Memory")
    any_store.insert("scratch", ("a", "b"), [(1, "x"), (2, "y")])
    assert any_store.query_dicts("SELECT a, b FROM scratch ORDER BY a") == [
        {"a": 1, "b": "x"},
        {"a": 2, "b": "y"},
    ]


def test_insert_in_batches_from_an_iterator(any_store: Store) -> None:
    rows = ((i, f"n{i}", "", 0, "provide") for i in range(7))
    sent = any_store.insert(
        "Depends", ("pkg_hash", "dp_name", "dp_version", "dp_flag", "dp_type"), rows, batch_rows=3
    )
    assert sent == 7
    assert any_store.query("SELECT count() FROM Depends") == [(7,)]
    assert any_store.insert("Depends", ("pkg_hash",), []) == 0


def test_bad_sql_is_a_store_error(any_store: Store) -> None:
    with pytest.raises(StoreError):
        any_store.query("SELEKT 1")
    with pytest.raises(StoreError):
        any_store.query("SELECT * FROM no_such_table")


@pytest.mark.parametrize(
    ("table", "columns", "rows", "error"),
    [
        ("no_such_table", ("a",), [(1,)], StoreError),
        ("Depends", ("no_such_column",), [(1,)], InputError),
        ("Depends", ("pkg_hash`; DROP TABLE Depends; --",), [(1,)], InputError),
        ("Depends; DROP TABLE Depends", ("pkg_hash",), [(1,)], InputError),
        ("PackageHash", ("pkgh_md5",), [(b"x" * 17,)], InputError),
        ("Depends", ("pkg_hash", "dp_name"), [(1,)], InputError),
        ("Depends", ("dp_type",), [(99,)], InputError),
    ],
)
def test_bad_inserts_are_refused(
    any_store: Store,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple[object, ...]],
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        any_store.insert(table, columns, rows)
    assert any_store.query("SELECT count() FROM Depends") == [(0,)]


def test_bad_param_names_and_types(any_store: Store) -> None:
    with pytest.raises(InputError, match="parameter name"):
        any_store.query("SELECT 1", {"a b": 1})
    with pytest.raises(InputError, match="cannot bind"):
        any_store.query("SELECT {o:String}", {"o": object()})


def test_migrate_is_idempotent(any_store: Store) -> None:
    assert migrate(any_store) == []
    states = migration_status(any_store)
    assert [s.version for s in states] == list(range(1, len(states) + 1))
    assert all(s.applied is not None for s in states)


_FAILS_PART_WAY = (
    "SELECT number, throwIf(number = 200000) FROM system.numbers LIMIT 1000000 "
    "SETTINGS max_block_size = 1000"
)


@pytest.mark.parametrize("repeat", range(3))
def test_a_query_failing_part_way_never_leaks_into_the_next(any_store: Store, repeat: int) -> None:
    """A failed query's rows, names or types never come back as another query's result."""
    with pytest.raises(StoreError, match="throwIf"):
        any_store.query(_FAILS_PART_WAY)
    assert any_store.query("SELECT 42 AS x, toDate('2024-01-01') AS d") == [(42, date(2024, 1, 1))]
    assert any_store.query_dicts("SELECT 'a' AS s") == [{"s": "a"}]
    with pytest.raises(StoreError):
        any_store.query_dicts(_FAILS_PART_WAY)
    assert any_store.query("SELECT now() > toDateTime('2020-01-01')") == [(1,)]


def test_a_failed_insert_leaves_the_connection_clean(any_store: Store) -> None:
    any_store.command(
        "CREATE TABLE checked (x UInt32, CONSTRAINT small CHECK x < 5) "
        "ENGINE = MergeTree ORDER BY x"
    )
    with pytest.raises(StoreError, match="small"):
        any_store.insert("checked", ("x",), [(i,) for i in range(10)])
    assert any_store.query("SELECT count() FROM checked") == [(0,)]
    with pytest.raises(StoreError):
        any_store.query(_FAILS_PART_WAY)
    any_store.insert("PackageHash", ("pkgh_mmh",), [(7,)])
    assert any_store.query("SELECT pkgh_mmh FROM PackageHash") == [(7,)]


def test_an_insert_whose_view_fails_is_an_error_not_a_silent_loss(any_store: Store) -> None:
    """chDB's streaming insert reported success for rows a failing view or check dropped."""
    any_store.command("CREATE TABLE src (x UInt32) ENGINE = Null")
    any_store.command("CREATE TABLE dst (y UInt32) ENGINE = MergeTree ORDER BY y")
    any_store.command(
        "CREATE MATERIALIZED VIEW mv TO dst AS SELECT throwIf(x = 3, 'boom') + x AS y FROM src"
    )
    with pytest.raises(StoreError, match="boom"):
        any_store.insert("src", ("x",), [(1,), (3,)])
    with pytest.raises(StoreError, match="boom"):
        any_store.insert_blocks("src", ("x",), [encode_block("src", ("x",), ("UInt32",), [(3,)])])
    any_store.insert("src", ("x",), [(1,), (2,)])
    assert any_store.query("SELECT y FROM dst ORDER BY y") == [(1,), (2,)]
