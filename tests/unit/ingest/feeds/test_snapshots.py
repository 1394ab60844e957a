"""``load repocop`` (json.bz2) and ``load watch`` (TSV): Last-Modified gates, full snapshots."""

from __future__ import annotations

import bz2
import json
import os
from pathlib import Path

import pytest

from repotrack.config import FeedsSettings
from repotrack.errors import InputError, UpstreamError
from repotrack.sources.feeds import REPOCOP_FIELDS
from repotrack.store import Store
from tests.unit.ingest.feeds.conftest import run
from tests.unit.ingest.feeds.feedserver import FeedServer, Reply, utc

MAY = utc(2026, 5, 1, 3, 0)
JUNE = utc(2026, 6, 1, 3, 0)
WATCH = (
    b"ivan\tfoo\t1.0\t1.2\thttps://example.org/foo-1.2.tar.gz\n"
    b"petr\tbar\t2.0\t2.1\thttps://example.org/bar/\n"
    b"broken line\n"
    b"\n"
)


def repocop_item(name: str, test: str, status: str = "warn") -> dict[str, str]:
    item = dict.fromkeys(REPOCOP_FIELDS, "")
    item.update(
        pkg_name=name, pkg_version="1.0", pkg_release="alt1", pkg_arch="x86_64",
        pkgset_name="sisyphus", rc_srcpkg_name=name, rc_test_name=test,
        rc_test_status=status, rc_test_message=f"{test} says so",
    )  # fmt: skip
    return item


REPOCOP = bz2.compress(
    json.dumps(
        [repocop_item("foo", "rpm-obsolete"), repocop_item("bar", "ok", "ok"), {"pkg_name": "x"}]
    ).encode()
)


def count(store: Store, table: str) -> int:
    return int(store.query(f"SELECT count() FROM {table}")[0][0])  # noqa: S608 - test constant


def test_watch_first_load_304_and_new_snapshot(
    store: Store, feeds: FeedsSettings, feed_server: FeedServer
) -> None:
    feed_server.set("/watch-total.txt", Reply(WATCH, last_modified=MAY))
    url = feed_server.url + "/watch-total.txt"
    first = run(store, feeds, "watch", url)
    assert (first.rows, first.skipped) == (2, 1)
    assert store.query(
        "SELECT acl, pkg_name, old_version, new_version, date_update FROM PackagesWatch "
        "ORDER BY pkg_name"
    ) == [("petr", "bar", "2.0", "2.1", MAY), ("ivan", "foo", "1.0", "1.2", MAY)]
    again = run(store, feeds, "watch", url)
    assert again.rows == 0 and "not modified" in again.note
    assert feed_server.hits("/watch-total.txt")[-1].headers["If-Modified-Since"].endswith("GMT")
    feed_server.set("/watch-total.txt", Reply(WATCH[:60], last_modified=JUNE))
    assert run(store, feeds, "watch", url).rows == 1
    assert count(store, "PackagesWatch") == 3


def test_watch_server_ignoring_if_modified_since_is_gated_by_date(
    store: Store, feeds: FeedsSettings, feed_server: FeedServer
) -> None:
    feed_server.set("/w", Reply(WATCH, headers={"Last-Modified": "Fri, 01 May 2026 03:00:00 GMT"}))
    assert run(store, feeds, "watch", feed_server.url + "/w").rows == 2
    assert run(store, feeds, "watch", feed_server.url + "/w").rows == 0


def test_repocop_first_load_304_new_snapshot_and_bad_items(
    store: Store, feeds: FeedsSettings, feed_server: FeedServer
) -> None:
    feed_server.set("/r.json.bz2", Reply(REPOCOP, last_modified=MAY))
    url = feed_server.url + "/r.json.bz2"
    first = run(store, feeds, "repocop", url)
    assert (first.rows, first.skipped) == (2, 1)
    assert "missing or non-string" in str(first.problems[0])
    assert store.query(
        "SELECT pkg_name, rc_test_name, rc_test_status, rc_test_date FROM PackagesRepocop "
        "ORDER BY pkg_name"
    ) == [("bar", "ok", "ok", MAY), ("foo", "rpm-obsolete", "warn", MAY)]
    assert run(store, feeds, "repocop", url).rows == 0
    feed_server.set("/r.json.bz2", Reply(REPOCOP, last_modified=JUNE))
    assert run(store, feeds, "repocop", url).rows == 2
    assert store.query(
        "SELECT rc_test_date, count() FROM PackagesRepocop GROUP BY rc_test_date ORDER BY 1"
    ) == [(MAY, 2), (JUNE, 2)]


@pytest.mark.parametrize(
    ("reply", "error", "match"),
    [
        (Reply(status=404), UpstreamError, "HTTP 404"),
        (Reply(status=500), UpstreamError, "HTTP 500"),
        (Reply(REPOCOP, truncate=True), UpstreamError, "incomplete"),
        (Reply(REPOCOP, delay=3.0), UpstreamError, "timed out"),
        (Reply(REPOCOP[: len(REPOCOP) // 2], last_modified=MAY), InputError, "truncated bzip2"),
    ],
    ids=["404", "500", "truncated-body", "slow", "truncated-bz2"],
)
def test_repocop_failures_add_nothing(
    store: Store,
    feeds: FeedsSettings,
    feed_server: FeedServer,
    reply: Reply,
    error: type[Exception],
    match: str,
) -> None:
    feed_server.set("/r.json.bz2", reply)
    # A short timeout only where the server is slow: on a busy machine it could turn
    # the other failures into timeouts.
    timeout = 0.3 if reply.delay else 30.0
    fast = feeds.model_copy(update={"timeout": timeout, "max_retries": 0})
    with pytest.raises(error, match=match) as caught:
        run(store, fast, "repocop", feed_server.url + "/r.json.bz2")
    assert "r.json.bz2" in str(caught.value)
    assert count(store, "PackagesRepocop") == 0


def test_offline_files(store: Store, feeds: FeedsSettings, tmp_path: Path) -> None:
    watch = tmp_path / "watch-total.txt"
    watch.write_bytes(WATCH)
    os.utime(watch, (MAY.timestamp(), MAY.timestamp()))
    assert run(store, feeds, "watch", str(watch)).rows == 2
    assert run(store, feeds, "watch", str(watch)).rows == 0
    repocop = tmp_path / "packages.json.bz2"
    repocop.write_bytes(REPOCOP)
    assert run(store, feeds, "repocop", str(repocop)).rows == 2
    with pytest.raises(InputError, match="cannot read"):
        run(store, feeds, "watch", str(tmp_path / "absent.txt"))


def test_load_messages_run_the_whole_feed(
    store: Store, feeds: FeedsSettings, feed_server: FeedServer
) -> None:
    from repotrack.ingest.feeds import handle_feed_load_message

    feed_server.set("/watch-total.txt", Reply(WATCH, last_modified=MAY))
    settings = feeds.model_copy(update={"watch_url": feed_server.url + "/watch-total.txt"})
    assert handle_feed_load_message(store, settings, "watch.load") == 2
    assert handle_feed_load_message(store, settings, "watch.load") == 0
    with pytest.raises(InputError, match=r"repo\.load"):
        handle_feed_load_message(store, settings, "repo.load")
