"""The clickhouse-connect backend's plumbing against an in-test HTTP double.

What is checked: the URL becomes host, port, database and credentials (the password
travels in the Authorization header, never in the URL); values travel as
``param_<name>`` arguments, not inside the SQL; inserts are batched Native-format
bodies; server errors become StoreError. The full contract suite against a real
server lives in test_contract.py (REPOTRACK_TEST_CLICKHOUSE_URL).
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest

from repotrack.errors import InputError, StoreError
from repotrack.store import open_store
from tests.unit.store.clickhouse_double import clickhouse_double


def test_url_params_and_inserts_reach_the_server() -> None:
    with clickhouse_double() as double:
        url = f"clickhouse://alice:s3cr%3Aet@127.0.0.1:{double.port}/default"
        with open_store(url) as store:
            assert store.url == f"clickhouse://alice@127.0.0.1:{double.port}/default"
            store.command(
                "CREATE TABLE t (n UInt64, s String, u UUID, d DateTime, a Array(String)) "
                "ENGINE = Memory"
            )
            day = datetime(2024, 5, 1, tzinfo=UTC)
            ident = uuid.UUID(int=7)
            rows = [(i, f"s'{i}", ident, day, ["x", "y"]) for i in range(5)]
            assert store.insert("t", ("n", "s", "u", "d", "a"), rows, batch_rows=2) == 5
            hostile = "x'; DROP TABLE t; --"
            answer = store.query(
                "SELECT count(), max(d), any(u) FROM t WHERE s != {v:String}", {"v": hostile}
            )
            assert answer == [(5, day, ident)]
            assert store.query("SELECT {v:String}", {"v": hostile}) == [(hostile,)]
            assert store.query_dicts("SELECT n FROM t ORDER BY n LIMIT 1") == [{"n": 0}]
            with pytest.raises(StoreError, match="clickhouse://alice@"):
                store.query("SELEKT")
        sent = double.requests
        token = base64.b64encode(b"alice:s3cr:et").decode()
        assert all(r.headers.get("Authorization") == f"Basic {token}" for r in sent)
        assert all("s3cr" not in r.sql for r in sent)
        assert {r.params.get("database") for r in sent} <= {"default", None}
        inserts = [r for r in sent if r.sql.startswith("INSERT INTO")]
        assert len(inserts) == 3  # 2 + 2 + 1 rows
        assert all(r.sql.rstrip().endswith("FORMAT Native") and r.body_size for r in inserts)
        select = next(r for r in sent if "{v:String}" in r.sql)
        # clickhouse-connect escapes for ClickHouse's escaped-text reader, which undoes it
        assert select.params["param_v"] == "x\\'; DROP TABLE t; --"
        assert select.params["database"] == "default"
        assert hostile not in select.sql


def test_bad_identifiers_never_reach_the_server() -> None:
    with (
        clickhouse_double() as double,
        open_store(f"clickhouse://default@127.0.0.1:{double.port}/default") as store,
    ):
        before = len(double.requests)
        with pytest.raises(InputError):
            store.insert("t; DROP TABLE x", ("a",), [(1,)])
        with pytest.raises(InputError):
            store.insert("t", ("a`b",), [(1,)])
        assert len(double.requests) == before


def test_unreachable_server_is_a_store_error() -> None:
    with clickhouse_double() as double:
        port = double.port
    with pytest.raises(StoreError, match=f"127.0.0.1:{port}"):
        open_store(f"clickhouse://u:pw@127.0.0.1:{port}/default")


def test_a_server_not_in_utc_is_refused() -> None:
    """Functions of a stored DateTime column read it in the server's zone, whatever the
    session's: in Europe/Moscow a time late in the UTC day falls on the next day
    (``repotrack.store.zones``, ``test_chdb_timezone.py``)."""
    with clickhouse_double(server_zone="Europe/Moscow") as double:
        url = f"clickhouse://u:pw@127.0.0.1:{double.port}/default"
        with pytest.raises(StoreError, match=r"reads stored times in Europe/Moscow, not UTC.*"):
            open_store(url)
    with clickhouse_double(server_zone="Etc/UTC") as double:
        open_store(f"clickhouse://u:pw@127.0.0.1:{double.port}/default").close()


def test_values_are_converted_like_on_chdb_before_sending() -> None:
    with (
        clickhouse_double() as double,
        open_store(f"clickhouse://default@127.0.0.1:{double.port}/default") as store,
    ):
        store.command(
            "CREATE TABLE h (md5 FixedString(4), kind Enum8('require' = 1, 'provide' = 4), "
            "d DateTime) ENGINE = Memory"
        )
        naive = datetime(2024, 5, 1, 12)  # taken as UTC, whatever the client's zone
        store.insert("h", ("md5", "kind", "d"), [(b"\x01", 4, naive), ("ab", "require", 0)])
        assert store.query("SELECT md5, kind, d FROM h ORDER BY kind") == [
            (b"ab\0\0", "require", datetime(1970, 1, 1, tzinfo=UTC)),
            (b"\x01\0\0\0", "provide", naive.replace(tzinfo=UTC)),
        ]
        before = len(double.requests)
        with pytest.raises(InputError, match="no such column"):
            store.insert("h", ("nope",), [(1,)])
        with pytest.raises(InputError, match="do not fit"):
            store.insert("h", ("md5",), [(b"12345",)])
        with pytest.raises(InputError, match="not a value of Enum8"):
            store.insert("h", ("kind",), [(99,)])
        with pytest.raises(InputError, match="parameter name"):
            store.query("SELECT 1", {"a b": 1})
        # No insert was sent (an unknown column makes the table's types be read again).
        assert not [r for r in double.requests[before:] if "INSERT" in r.sql.upper()]


def test_insert_select_sends_the_block_through_input() -> None:
    """``insert_select`` on a server: ``INSERT ... SELECT ... FROM input('...') FORMAT Native``."""
    from repotrack.store.native import encode_block, wire_structure

    columns, types = ("n", "name"), ("UInt64", "String")
    block = encode_block("src", columns, types, [[1, 2], ["/usr/bin/a", "/etc/b"]])
    with clickhouse_double() as double:
        with open_store(f"clickhouse://127.0.0.1:{double.port}/default") as store:
            store.command("CREATE TABLE t (n UInt64, h UInt64) ENGINE = Memory")
            store.insert_select(
                "t",
                ("n", "h"),
                "SELECT n, murmurHash3_64(name) FROM {source}",
                wire_structure(columns, types),
                block,
            )
            from repotrack.rpm import mmhash

            assert store.query("SELECT n, h FROM t ORDER BY n") == [
                (1, mmhash("/usr/bin/a")),
                (2, mmhash("/etc/b")),
            ]
        (insert,) = [r for r in double.requests if r.sql.startswith("INSERT INTO")]
        assert "FROM input('`n` UInt64, `name` String')" in insert.sql
        assert insert.sql.endswith("FORMAT Native") and insert.body_size == len(block)
