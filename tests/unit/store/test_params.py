from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from repotrack.errors import InputError
from repotrack.store.params import render_params, render_value
from repotrack.store.sqltext import split_statements


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain", "plain"),
        ("a\\b\tc\nd", "a\\\\b\\tc\\nd"),
        ("it's", "it's"),
        (42, "42"),
        (True, "1"),
        (None, "\\N"),
        (datetime(2024, 5, 1, 3, tzinfo=timezone(timedelta(hours=3))), "2024-05-01 00:00:00"),
        (datetime(2024, 5, 1), "2024-05-01 00:00:00"),
        (date(2024, 5, 1), "2024-05-01"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (["a'b", 1, None], "['a\\'b',1,NULL]"),
        ([["x"]], "[['x']]"),
    ],
)
def test_render_value(value: object, text: str) -> None:
    assert render_value(value) == text


def test_render_params_checks_names_and_types() -> None:
    assert render_params(None) == {}
    assert render_params({"a_1": datetime(2024, 1, 1, tzinfo=UTC)}) == {
        "a_1": "2024-01-01 00:00:00"
    }
    with pytest.raises(InputError, match="parameter name"):
        render_params({"x:String} OR {y": 1})
    with pytest.raises(InputError, match="cannot bind a bytes value"):
        render_params({"b": b"raw"})


def test_split_statements_respects_quotes_and_comments() -> None:
    script = """
    -- leading comment; with a semicolon
    CREATE TABLE a (x String DEFAULT ';') ENGINE = Memory;
    /* block; comment */
    SELECT 'it\\'s; fine', `odd;name`;
    -- trailing only comment;
    """
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[0].endswith("ENGINE = Memory")
    assert "odd;name" in statements[1]
