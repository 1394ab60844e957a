"""``load beehive``: listings with mtimes, time.list, ftbfs-since; hashes from the snapshot."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from repotrack.config import FeedsSettings
from repotrack.store import Store, open_store
from tests.unit.ingest.feeds.conftest import run
from tests.unit.ingest.feeds.feedserver import FeedServer, Reply, nginx_listing, utc
from tests.unit.store.rows import BAR_SRC, FOO2_SRC, FOO_SRC
from tests.unit.store.storeutil import fresh_store_url

TIME_LIST = (
    b"foo-1.0-alt1.src.rpm\t12.5\n"
    b"bar-2.0-alt1.src.rpm\t3.25\n"
    b"qux-3-alt2.src.rpm\t1\n"
    b"lost-1-alt1.src.rpm\t2\n"
    b"garbage\n"
)
FTBFS = b"bar\t1714000000\nbad line here\n"


@pytest.fixture
def loaded(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    """p10 snapshots of 2024-05-01 (foo 1.0, bar 2.0) and 2024-06-01 (foo 1.10, baz)."""
    store = open_store(fresh_store_url(tmp_path_factory, tmp_path / "store", loaded=True))
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def p10(feeds: FeedsSettings) -> FeedsSettings:
    return feeds.model_copy(update={"beehive_branches": ["p10"], "beehive_arches": ["x86_64"]})


def serve_beehive(server: FeedServer, latest: datetime) -> str:
    when = latest.replace(tzinfo=None)
    logs = "/beehive/logs/p10/x86_64"
    server.set(f"{logs}/", Reply(nginx_listing([("latest/", when), ("2024-05-14/", when)])))
    server.set(f"{logs}/latest/time.list", Reply(TIME_LIST))
    server.set(
        f"{logs}/latest/error/",
        Reply(nginx_listing([("bar-2.0-alt1", when), ("qux-3-alt2", when)])),
    )
    server.set(f"{logs}/latest/success/", Reply(nginx_listing([("foo-1.0-alt1", when)])))
    server.set("/beehive/stats/p10/x86_64/ftbfs-since", Reply(FTBFS))
    return server.url + "/beehive"


def status_rows(store: Store) -> list[tuple[object, ...]]:
    return store.query(
        "SELECT pkg_hash, pkg_name, pkg_version, pkg_release, pkgset_name, bh_arch, bh_status, "
        "bh_build_time, bh_updated, bh_ftbfs_since FROM BeehiveStatus ORDER BY pkg_name"
    )


def test_first_load_and_reload(loaded: Store, p10: FeedsSettings, feed_server: FeedServer) -> None:
    url = serve_beehive(feed_server, utc(2024, 5, 15, 6, 40))
    first = run(loaded, p10, "beehive", url)
    noon = utc(2024, 5, 15, 12)
    since = utc(2024, 4, 24, 23, 6, 40)  # 1714000000 in ftbfs-since
    assert status_rows(loaded) == [
        (BAR_SRC, "bar", "2.0", "alt1", "p10", "x86_64", "error", 3.25, noon, since),
        (FOO_SRC, "foo", "1.0", "alt1", "p10", "x86_64", "success", 12.5, noon, noon),
        (0, "qux", "3", "alt2", "p10", "x86_64", "error", 1.0, noon, noon),
    ]  # fmt: skip
    problems = [str(p) for p in first.problems]
    assert first.rows == 3 and first.skipped == 4
    assert any("lost-1-alt1 is in neither error/ nor success/" in p for p in problems)
    assert any("time.list has 4 entries, error/ and success/ 3" in p for p in problems)
    assert "1 packages not in the snapshot" in first.note
    again = run(loaded, p10, "beehive", url)
    assert again.rows == 0 and "already loaded for 2024-05-15" in again.note


def test_a_version_missing_from_the_snapshot_is_found_in_task_history(
    loaded: Store, p10: FeedsSettings, feed_server: FeedServer
) -> None:
    """foo 1.10 is not in the May snapshot but task 400 of p10 built it."""
    loaded.insert("Tasks_buffer", ("task_id", "subtask_id", "task_repo"), [(400, 1, "p10")])
    loaded.insert(
        "TaskIterations_buffer",
        ("task_id", "subtask_id", "titer_srcrpm_hash"),
        [(400, 1, FOO2_SRC)],
    )
    url = serve_beehive(feed_server, utc(2024, 5, 15, 6, 40))
    feed_server.set(
        "/beehive/logs/p10/x86_64/latest/time.list",
        Reply(b"foo-1.10-alt1.src.rpm\t1.0\nbar-2.0-alt1.src.rpm\t1.0\n"),
    )
    feed_server.set(
        "/beehive/logs/p10/x86_64/latest/success/",
        Reply(nginx_listing([("foo-1.10-alt1", datetime(2024, 5, 15, 6))])),
    )
    assert run(loaded, p10, "beehive", url).note == ""
    assert loaded.query("SELECT pkg_name, pkg_hash FROM BeehiveStatus ORDER BY pkg_name") == [
        ("bar", BAR_SRC),
        ("foo", FOO2_SRC),
    ]


def test_snapshot_of_the_same_day_is_used(
    loaded: Store, p10: FeedsSettings, feed_server: FeedServer
) -> None:
    """Snapshots are dated at midnight, beehive at noon: the day's snapshot must match."""
    url = serve_beehive(feed_server, utc(2024, 6, 1, 5, 0))
    feed_server.set(
        "/beehive/logs/p10/x86_64/latest/time.list", Reply(b"foo-1.10-alt1.src.rpm\t1.0\n")
    )
    feed_server.set(
        "/beehive/logs/p10/x86_64/latest/success/",
        Reply(nginx_listing([("foo-1.10-alt1", datetime(2024, 6, 1, 5))])),
    )
    feed_server.set("/beehive/logs/p10/x86_64/latest/error/", Reply(nginx_listing([])))
    assert run(loaded, p10, "beehive", url).rows == 1
    assert loaded.query("SELECT pkg_hash FROM BeehiveStatus") == [(FOO2_SRC,)]


def test_offline_from_a_mirror_directory(store: Store, p10: FeedsSettings, tmp_path: Path) -> None:
    root = tmp_path / "beehive"
    latest = root / "logs" / "p10" / "x86_64" / "latest"
    (latest / "error").mkdir(parents=True)
    (latest / "success").mkdir()
    (latest / "time.list").write_bytes(b"foo-1.0-alt1.src.rpm\t2\nbar-2.0-alt1.src.rpm\t3\n")
    (latest / "success" / "foo-1.0-alt1").write_text("log")
    (latest / "error" / "bar-2.0-alt1").write_text("log")
    stats = root / "stats" / "p10" / "x86_64"
    stats.mkdir(parents=True)
    (stats / "ftbfs-since").write_bytes(b"bar\t1714000000\n")
    stamp = utc(2024, 5, 15, 6, 40).timestamp()
    os.utime(latest, (stamp, stamp))
    result = run(store, p10, "beehive", str(root))
    assert (result.rows, result.skipped) == (2, 0)
    assert store.query("SELECT DISTINCT bh_updated FROM BeehiveStatus") == [(utc(2024, 5, 15, 12),)]
