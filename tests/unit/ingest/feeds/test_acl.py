"""``load acl`` against an nginx-style listing on 127.0.0.1 and offline from a directory."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from repotrack.config import FeedsSettings
from repotrack.errors import UpstreamError
from repotrack.store import Store
from tests.unit.ingest.feeds.conftest import run
from tests.unit.ingest.feeds.feedserver import FeedServer, Reply, nginx_listing, utc

PACKAGES = b"foo\tivan petr\nbar\t@qa\nbroken-line-without-members\n\n"
GROUPS = b"@qa\tanna ivan\n"
MAY = utc(2026, 5, 1, 10, 30)


def serve_acl(server: FeedServer, packages: bytes = PACKAGES, when: datetime = MAY) -> str:
    naive = when.replace(tzinfo=None)
    server.set(
        "/acl/",
        Reply(
            nginx_listing(
                [("list.packages.p10", naive), ("list.groups.p10", naive), ("README", naive)]
            )
        ),
    )
    server.set("/acl/list.packages.p10", Reply(packages))
    server.set("/acl/list.groups.p10", Reply(GROUPS))
    return server.url + "/acl"


def acl_rows(store: Store) -> list[tuple[object, ...]]:
    return store.query(
        "SELECT acl_date, acl_for, acl_branch, acl_list FROM Acl ORDER BY acl_date, acl_for"
    )


def test_first_load_unchanged_reload_and_one_changed_line(
    store: Store, feeds: FeedsSettings, feed_server: FeedServer
) -> None:
    url = serve_acl(feed_server)
    first = run(store, feeds, "acl", url)
    assert first.rows == 3
    assert first.skipped == 1 and "no members" in str(first.problems[0])
    assert acl_rows(store) == [
        (MAY, "@qa", "p10", ["anna", "ivan"]),
        (MAY, "bar", "p10", ["@qa"]),
        (MAY, "foo", "p10", ["ivan", "petr"]),
    ]
    assert run(store, feeds, "acl", url).rows == 0
    june = utc(2026, 6, 2, 8, 0)
    serve_acl(feed_server, b"foo\tpetr ivan\nbar\t@qa\n", when=june)
    assert run(store, feeds, "acl", url).rows == 1
    assert store.query("SELECT acl_date, acl_list FROM last_acl WHERE acl_for = 'foo'") == [
        (june, ["petr", "ivan"])
    ]
    assert len(acl_rows(store)) == 4


def test_listing_time_zone_is_the_configured_one(
    store: Store, feeds: FeedsSettings, feed_server: FeedServer
) -> None:
    url = serve_acl(feed_server)
    moscow = feeds.model_copy(update={"source_timezone": "Europe/Moscow"})
    run(store, moscow, "acl", url)
    assert store.query("SELECT DISTINCT acl_date FROM Acl") == [(utc(2026, 5, 1, 7, 30),)]


def test_offline_from_a_directory(store: Store, feeds: FeedsSettings, tmp_path: Path) -> None:
    folder = tmp_path / "acl"
    folder.mkdir()
    (folder / "list.packages.c8.1").write_bytes(PACKAGES)
    os.utime(folder / "list.packages.c8.1", (MAY.timestamp(), MAY.timestamp()))
    result = run(store, feeds, "acl", str(folder))
    assert (result.rows, result.skipped) == (2, 1)
    assert store.query("SELECT DISTINCT acl_branch, acl_date FROM Acl") == [("c8.1", MAY)]


def test_offline_makes_no_http_client(
    store: Store, feeds: FeedsSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    def no_client(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an HTTP client was made for a local directory")

    monkeypatch.setattr(httpx, "Client", no_client)
    folder = tmp_path / "acl"
    folder.mkdir()
    (folder / "list.packages.c8.1").write_bytes(PACKAGES)
    assert run(store, feeds, "acl", str(folder)).rows == 2


def test_missing_listing_names_the_url(
    store: Store, feeds: FeedsSettings, feed_server: FeedServer
) -> None:
    with pytest.raises(UpstreamError, match="HTTP 404") as caught:
        run(store, feeds, "acl", feed_server.url + "/nothing")
    assert caught.value.url == feed_server.url + "/nothing/"
    assert acl_rows(store) == []
