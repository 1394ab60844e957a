from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.store.urls import SCHEMES, chdb_path, chdb_url, open_store, redact_url


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


@pytest.mark.parametrize("name", ["p%41th", "a?b", "a#b", "it's a дом", "100%"])
def test_a_chdb_url_names_its_directory_whatever_its_name(tmp_path: Path, name: str) -> None:
    """``%41`` in a directory's name is no ``A`` (before 2026-12-07 a store and the
    task marks file were looked for in ``pAth``)."""
    from repotrack.ingest.task_marks import MARKS_FILE, marks_file

    url = chdb_url(tmp_path / name)
    assert chdb_path(url) == tmp_path / name
    assert marks_file(url) == tmp_path / name / MARKS_FILE
