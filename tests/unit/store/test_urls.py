from __future__ import annotations

import pytest

from repotrack.errors import InputError
from repotrack.store.urls import SCHEMES, open_store, redact_url


def test_schemes_are_pinned() -> None:
    assert set(SCHEMES) == {"chdb", "clickhouse", "clickhouses"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://host/db", "unknown scheme mysql://"),
        ("/just/a/path", "unknown scheme (none)"),
        ("chdb://relative/path", "expected chdb:///absolute/path"),
        ("chdb:relative", "expected chdb:///absolute/path"),
        ("chdb:///tmp/x?setting=1", "expected chdb:///absolute/path"),
        ("clickhouse://user:pw@host:notaport/db", "malformed URL"),
        ("clickhouse:///db", "no host"),
        ("clickhouse://host:8123/a/b", "bad database name"),
        ("http://[::1/x", "malformed URL"),
        ("chdb:///tmp/a%3Fb", "unusable character"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        open_store(url)
    assert "store url" in str(caught.value)


def test_password_never_in_messages() -> None:
    with pytest.raises(InputError) as caught:
        open_store("mysql://user:s3cret@host/db")
    assert "s3cret" not in str(caught.value)
    assert redact_url("clickhouse://u:s3cret@h:8123/db") == "clickhouse://u:***@h:8123/db"
    assert redact_url("chdb:///x") == "chdb:///x"
