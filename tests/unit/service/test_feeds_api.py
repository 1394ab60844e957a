"""``/api/v1/feeds`` and ``/api/v1/enrichment``, the feed scheduler and ``repotrack feeds status``.

The feeds read from a real HTTP server on 127.0.0.1; runs go into a real chDB store and
their history into the real SQLite state database. Background runs are awaited by
polling their recorded outcome (with a deadline), never by sleeping a fixed time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from repotrack.cli import main
from repotrack.config import Settings
from repotrack.daemon.feeds import FeedScheduler
from repotrack.passwords import hash_password
from repotrack.state import StateDB
from repotrack.state.feed_runs import recent_runs
from repotrack.store import Store
from tests.functional.server import running_server
from tests.unit.ingest.feeds.feedserver import FeedServer, Reply, feed_server, utc
from tests.unit.store.storeutil import fresh_store_url, open_fresh_store

__all__ = ["feed_server"]

AUTH = ("admin", "s3cret-pw")
WATCH = b"ivan\tfoo\t1.0\t1.2\thttps://f/\npetr\tbar\t2.0\t2.1\thttps://b/\n"


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def feeds_settings(server: FeedServer, **intervals: int) -> dict[str, Any]:
    return {
        "watch_url": server.url + "/watch",
        "timeout": 1.0,
        "max_retries": 0,
        "retry_wait": 0.0,
        "interval": intervals,
    }


@pytest.fixture
def client(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, feed_server: FeedServer
) -> Iterator[httpx.Client]:
    """The service on a free port; its home is the CLI's ($REPOTRACK_HOME) with a fresh store."""
    home = Path(os.environ["REPOTRACK_HOME"])
    fresh_store_url(tmp_path_factory, home / "store")
    service = {"password_hash": hash_password(AUTH[1], iterations=1000)}
    feeds = feeds_settings(feed_server, watch=3600)
    with (
        running_server(
            tmp_path, tls=False, password=None, service=service, home=home, feeds=feeds
        ) as server,
        server.client() as http,
    ):
        yield http


def finished(client: httpx.Client, feed: str, count: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs: list[dict[str, Any]] = client.get(f"/api/v1/feeds/{feed}/runs").json()["runs"]
        if len(runs) >= count and runs[0]["outcome"] != "running":
            return runs
        time.sleep(0.05)
    raise AssertionError(f"{feed} did not finish")


def test_status_run_now_and_history(client: httpx.Client, feed_server: FeedServer) -> None:
    feed_server.set("/watch", Reply(WATCH, last_modified=utc(2026, 12, 1)))
    feeds = {f["feed"]: f for f in client.get("/api/v1/feeds").json()["feeds"]}
    assert list(feeds) == ["acl", "beehive", "bugzilla", "repocop", "watch", "spdx", "repology"]
    assert feeds["watch"]["interval"] == 3600 and feeds["acl"]["interval"] == 0
    assert feeds["watch"]["last_run"] is None and feeds["acl"]["next_run"] is None
    assert client.post("/api/v1/feeds/watch/run").status_code == 401
    started = client.post("/api/v1/feeds/watch/run", auth=AUTH)
    assert (started.status_code, started.json()) == (202, {"feed": "watch", "state": "started"})
    (run,) = finished(client, "watch")
    assert (run["outcome"], run["rows_added"], run["trigger"]) == ("success", 2, "api")
    assert run["note"] == "watch: 2 rows added"
    watch = next(f for f in client.get("/api/v1/feeds").json()["feeds"] if f["feed"] == "watch")
    assert watch["last_run"]["id"] == run["id"] and watch["next_run"] is not None
    assert client.post("/api/v1/feeds/nope/run", auth=AUTH).status_code == 404
    assert client.get("/api/v1/feeds/nope/runs").status_code == 404

    status = CliRunner().invoke(main.app, ["feeds", "status"])
    assert status.exit_code == 0, status.output
    assert "watch: not scheduled; last success at" in status.output
    assert "(api), 2 rows" in status.output
    assert "acl: not scheduled; never run" in status.output


def test_a_running_feed_refuses_a_second_run(client: httpx.Client, feed_server: FeedServer) -> None:
    feed_server.set("/watch", Reply(WATCH, delay=0.8))
    assert client.post("/api/v1/feeds/watch/run", auth=AUTH).status_code == 202
    second = client.post("/api/v1/feeds/watch/run", auth=AUTH)
    assert (second.status_code, second.json()) == (409, {"detail": "feed watch is already running"})
    assert finished(client, "watch")[0]["outcome"] == "success"


def test_a_failed_run_is_recorded_with_its_error(
    client: httpx.Client, feed_server: FeedServer
) -> None:
    feed_server.set("/watch", Reply(status=500))
    client.post("/api/v1/feeds/watch/run", auth=AUTH)
    (run,) = finished(client, "watch")
    assert run["outcome"] == "failed"
    assert run["error"].startswith(f"UpstreamError: {feed_server.url}/watch: HTTP 500")


def test_scheduler_runs_a_due_feed_and_not_others(store: Store, feed_server: FeedServer) -> None:
    feed_server.set("/watch", Reply(WATCH, last_modified=utc(2026, 12, 1)))
    settings = Settings(feeds=feeds_settings(feed_server, watch=3600))
    db = StateDB(settings.state_url)
    scheduler = FeedScheduler(settings, db, lambda: store).start()
    try:
        deadline = time.monotonic() + 30
        while (
            not recent_runs(db, feed="watch")
            or recent_runs(db, feed="watch")[0].outcome == "running"
        ):
            assert time.monotonic() < deadline, "the scheduled run did not happen"
            time.sleep(0.05)
        (run,) = recent_runs(db, feed="watch")
        assert (run.trigger, run.outcome, run.rows_added) == ("schedule", "success", 2)
        assert recent_runs(db, feed="acl") == []
        assert scheduler.status()[4].next_run == run.started_at + timedelta(seconds=3600)
    finally:
        scheduler.stop()
        db.close()


def test_enrichment_routes_answer_json(client: httpx.Client) -> None:
    missing = client.get("/api/v1/enrichment/newer", params={"branch": "p99"})
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "no package set of branch p99"},
    )
    empty = client.get("/api/v1/enrichment/maintainers/ivan", params={"branch": "p10"})
    assert (empty.status_code, empty.json()) == (  # no acl loaded: no answer, not "none"
        404,
        {"detail": "no acl of p10 is loaded (`repotrack load acl`)"},
    )
    feeds = client.get("/api/v1/enrichment/packages/foo", params={"branch": "p10"})
    assert (feeds.status_code, feeds.json()) == (  # nothing of p10 loaded: not "-" per feed
        404,
        {"detail": "no package set of branch p10, nor any acl, beehive or repocop data of it"},
    )
    assert client.get("/api/v1/enrichment/ftbfs").status_code == 422


def test_serve_starts_the_feed_schedule(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, feed_server: FeedServer
) -> None:
    """The app's lifespan starts the scheduler beside the tracker's, and stops it."""
    feed_server.set("/watch", Reply(WATCH, last_modified=utc(2026, 12, 1)))
    home = tmp_path / "serve-home"
    fresh_store_url(tmp_path_factory, home / "store")
    feeds = feeds_settings(feed_server, watch=3600)
    with (
        running_server(
            tmp_path, tls=False, password=None, home=home, feeds=feeds, scheduler=True
        ) as server,
        server.client() as http,
    ):
        (run,) = finished(http, "watch")
    assert (run["trigger"], run["outcome"], run["rows_added"]) == ("schedule", "success", 2)
