"""The Native encoder: every column type a table of ours uses, through a real chDB."""

from __future__ import annotations

import uuid
from array import array
from datetime import UTC, date, datetime

import pytest

from repotrack.errors import InputError
from repotrack.ingest import tables
from repotrack.store import Store
from repotrack.store.native import (
    EncodedColumns,
    RawColumn,
    assemble_block,
    encode_block,
    encode_columns,
    encode_strings,
    encode_utf8,
    encode_utf8_joined,
    string_column,
)

TYPES = {
    "u8": "UInt8",
    "u16": "UInt16",
    "u32": "UInt32",
    "u64": "UInt64",
    "i8": "Int8",
    "i64": "Int64",
    "f64": "Float64",
    "ok": "Bool",
    "s": "String",
    "lc": "LowCardinality(String)",
    "fs": "FixedString(4)",
    "dt": "DateTime",
    "dt64": "DateTime64(3)",
    "d": "Date",
    "d32": "Date32",
    "id": "UUID",
    "e": "Enum8('a' = 1, 'b' = -2)",
    "ns": "Nullable(String)",
    "nu": "Nullable(UInt32)",
    "arr": "Array(String)",
    "arr_lc": "Array(LowCardinality(String))",
    "m": "Map(String, UInt64)",
}
NAMES = tuple(TYPES)
ID = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")
LONG = "x" * 300 + "ё"

ROWS = [
    (
        255, 65535, 2**32 - 1, 2**64 - 1, -128, -(2**63), 1.5, True,
        "plain", "lc", b"\x00\xff\x01", datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC), date(2024, 5, 1), date(1900, 1, 2),
        ID, "a", None, 7, ["p", "q"], ["r"], {"k": 1},
    ),
    (
        0, 0, 0, 0, 0, 0, 0.0, False,
        LONG, "", "abcd", 1_700_000_000,
        datetime(1970, 1, 1, tzinfo=UTC), date(1970, 1, 1), date(2200, 12, 31),
        str(ID), -2, "text", None, [], [], {},
    ),
]  # fmt: skip


@pytest.fixture
def typed(store: Store) -> Store:
    columns = ", ".join(f"{n} {t}" for n, t in TYPES.items())
    store.command(f"CREATE TABLE typed ({columns}) ENGINE = MergeTree ORDER BY tuple()")
    return store


def test_every_type_round_trips(typed: Store) -> None:
    assert typed.insert("typed", NAMES, ROWS) == 2
    got = typed.query(f"SELECT {', '.join(NAMES)} FROM typed ORDER BY u8 DESC")  # noqa: S608
    first, second = (dict(zip(NAMES, row, strict=True)) for row in got)
    assert first["u64"] == 2**64 - 1 and first["i64"] == -(2**63)
    assert first["ok"] is True and second["ok"] is False
    assert first["fs"] == b"\x00\xff\x01\x00" and second["fs"] == b"abcd"
    assert first["dt"] == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert second["dt"] == datetime.fromtimestamp(1_700_000_000, UTC)
    assert first["dt64"] == datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert (first["d"], first["d32"], second["d32"]) == (
        date(2024, 5, 1),
        date(1900, 1, 2),
        date(2200, 12, 31),
    )
    assert first["id"] == second["id"] == ID
    assert (first["e"], second["e"]) == ("a", "b")
    assert (first["ns"], second["ns"], first["nu"], second["nu"]) == (None, "text", 7, None)
    assert (first["arr"], second["arr"], first["arr_lc"]) == (["p", "q"], [], ["r"])
    assert (first["m"], second["m"]) == ({"k": 1}, {})
    assert second["s"] == LONG and first["lc"] == "lc" and second["lc"] == ""


def test_raw_and_assembled_columns_insert_as_one_block(typed: Store) -> None:
    names = ("u64", "s", "fs", "e")
    types = [TYPES[n] for n in names]
    first = [[1, 2], ["a", "b"], RawColumn(2, b"12345678"), ["a", "b"]]
    parts = [
        encode_columns("typed", names, types, first),
        encode_columns("typed", names, types, [array("Q", [3]), ["c"], [b"z"], [1]]),
    ]
    block = assemble_block(names, types, parts)
    assert block == encode_block(
        "typed", names, types, [[1, 2, 3], ["a", "b", "c"], [b"1234", b"5678", b"z"], [1, -2, 1]]
    )
    typed.insert_blocks("typed", names, [block])
    assert typed.query("SELECT u64, s, fs, e FROM typed ORDER BY u64") == [
        (1, "a", b"1234", "a"),
        (2, "b", b"5678", "b"),
        (3, "c", b"z\x00\x00\x00", "a"),
    ]


def test_parts_of_array_columns_are_not_joined() -> None:
    part = encode_columns("t", ("arr",), ("Array(String)",), [[["x"]]])
    with pytest.raises(InputError, match="cannot join"):
        assemble_block(("arr",), ("Array(String)",), [part, part])
    assert assemble_block(("arr",), ("Array(String)",), [part])  # one part is fine


@pytest.mark.parametrize(
    ("type_text", "values", "message"),
    [
        ("UInt8", [256], "bad value for UInt8"),
        ("UInt64", [-1], "bad value for UInt64"),
        ("UInt32", [None], "bad value for UInt32"),
        ("FixedString(2)", [b"abc"], "3 bytes do not fit"),
        ("Enum8('a' = 1)", ["z"], "'z' is not a value of Enum8"),
        ("Enum8('a' = 1)", [[1]], "is not a value of Enum8"),
        ("DateTime", ["2024-01-01"], "expected datetime or int seconds"),
        ("Date", [0], "expected date"),
        ("UUID", ["not-a-uuid"], "bad value for UUID"),
        ("Array(String)", ["abc"], "expected a list"),
        ("Map(String, String)", [[("a", "b")]], "expected a dict"),
    ],
)
def test_bad_values_name_table_and_column(
    type_text: str, values: list[object], message: str
) -> None:
    with pytest.raises(InputError, match=message) as caught:
        encode_block("tbl", ("col",), (type_text,), [values])
    assert caught.value.path == "tbl" and caught.value.field == "col"


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(InputError, match="column has 1 values, not 2"):
        encode_block("t", ("a", "b"), ("UInt8", "UInt8"), [[1, 2], [3]])
    with pytest.raises(InputError, match="raw column does not hold 2 values"):
        encode_block("t", ("a", "b"), ("UInt8", "FixedString(2)"), [[1, 2], RawColumn(1, b"ab")])


@pytest.mark.parametrize(
    "values",
    [
        ["a", "bb", ""],
        ["é", "日本", LONG],  # multi-byte and a length over 127
        [b"\xff\x00", "x"],  # bytes go as they are
        ["bad \udcff surrogate"],  # latin-1-decoded bytes from surrogateescape text
        ["root"] * 40 + ["other"],  # few distinct values: the lookup-table path
    ],
)
def test_string_paths_agree(values: list[str | bytes]) -> None:
    expected = b""
    for value in values:
        raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
        n = len(raw)
        prefix = bytearray()
        while n >= 128:
            prefix.append((n & 0x7F) | 0x80)
            n >>= 7
        prefix.append(n)
        expected += bytes(prefix) + raw
    assert string_column(values) == encode_strings(values) == expected
    utf8 = [v.encode("utf-8", "surrogateescape") if isinstance(v, str) else v for v in values]
    assert encode_utf8(utf8) == expected


@pytest.mark.parametrize(
    "values",
    [[], [b"x"] * 20, [b"a", b"b"] * 10, [b"a", b"b", b"c"], [b"q" * 200] * 12 + [b"r"]],
)
def test_utf8_columns_are_string_columns(values: list[bytes]) -> None:
    assert encode_utf8(values) == string_column(values)


def test_joined_values_encode_as_the_values() -> None:
    heads = [b"/usr/bin/", b"/etc/", b"/" + b"d" * 130 + b"/"]
    tails = [b"a", "\u00e9".encode(), b"x"]
    joined = [h + t for h, t in zip(heads, tails, strict=True)]
    assert encode_utf8_joined(heads[:2], tails[:2]) == string_column(joined[:2])
    assert encode_utf8_joined(heads, tails) == string_column(joined)  # one over 127 bytes


def test_a_raw_string_column_goes_as_it_is(typed: Store) -> None:
    names = ("u8", "s")
    types = [TYPES[n] for n in names]
    payload = encode_utf8([b"one", "é".encode(), b""])
    block = encode_block("typed", names, types, [[1, 2, 3], RawColumn(3, payload)])
    typed.insert_blocks("typed", names, [block])
    assert typed.query("SELECT u8, s FROM typed ORDER BY u8") == [(1, "one"), (2, "é"), (3, "")]


@pytest.mark.parametrize(
    ("type_text", "column"),
    [
        ("FixedString(2)", RawColumn(2, b"abc")),  # 3 bytes for two 2-byte values
        ("UInt32", RawColumn(2, b"\0" * 4)),  # half of two UInt32s
        ("Int8", RawColumn(2, b"\0")),
        ("String", RawColumn(0, b"\1x")),  # bytes for no row
    ],
)
def test_raw_columns_of_the_wrong_size_are_refused(type_text: str, column: RawColumn) -> None:
    with pytest.raises(InputError, match="raw column does not hold"):
        encode_columns("t", ("c",), (type_text,), [column])


def test_worker_types_match_the_schema(store: Store) -> None:
    """The types the loader's workers encode with are those the migrations create."""
    for table, columns, types in (
        ("Files_insert", tables.FILE_INPUT_COLUMNS, tables.FILE_INPUT_TYPES),
        (tables.DEPENDS, tables.DEPENDS_COLUMNS, tables.DEPENDS_TYPES),
    ):
        rows = dict(
            store.query(
                "SELECT name, type FROM system.columns "
                "WHERE database = currentDatabase() AND table = {t:String}",
                {"t": table},
            )
        )
        assert [rows[c] for c in columns] == list(types), table


def test_empty_parts_make_an_empty_block(typed: Store) -> None:
    block = assemble_block(("u8",), ("UInt8",), [EncodedColumns(0, (b"",))])
    typed.insert_blocks("typed", ("u8",), [block])
    assert typed.query("SELECT count() FROM typed") == [(0,)]
