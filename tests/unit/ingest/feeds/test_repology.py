"""``load repology``: paged project lists, active/inactive mappings, offline JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repotrack.config import FeedsSettings
from repotrack.errors import UpstreamError
from repotrack.ingest.feeds import FeedRequest, FeedResult, run_feed
from repotrack.ingest.feeds.repology import PAGE_SIZE
from repotrack.store import Store
from tests.unit.ingest.feeds.feedserver import FeedServer, Reply


def project(name: str, alt_name: str | None = None) -> list[dict[str, str]]:
    packages = [{"repo": "debian_12", "srcname": name, "version": "1"}]
    if alt_name:
        packages.append({"repo": "alt_sisyphus", "srcname": alt_name, "version": "1"})
    return packages


def page(names: list[str]) -> bytes:
    return json.dumps({n: project(n, f"alt-{n}") for n in names}).encode()


def run(store: Store, feeds: FeedsSettings, location: str) -> FeedResult:
    request = FeedRequest("repology", location=location, options={"repos": "alt_sisyphus"})
    return run_feed(store, feeds, request)


def mappings(store: Store) -> list[tuple[object, ...]]:
    return store.query(
        "SELECT pkg_name, pnc_result, argMax(pnc_state, ts) FROM PackagesNameConversion "
        "WHERE pnc_type = 'alt_sisyphus' GROUP BY pkg_name, pnc_result ORDER BY pkg_name"
    )


def test_pages_then_reload_then_one_gone(
    store: Store, feeds: FeedsSettings, feed_server: FeedServer
) -> None:
    first = [f"p{i:04d}" for i in range(PAGE_SIZE)]
    second = [first[-1], "zlib", "zzz"]
    feed_server.set("/api/v1/projects/", Reply(page(first)))
    feed_server.set(f"/api/v1/projects/{first[-1]}/", Reply(page(second)))
    url = feed_server.url + "/api/v1/projects/"
    assert run(store, feeds, url).rows == PAGE_SIZE + 2
    assert feed_server.hits("/api/v1/projects/")[0].query == "inrepo=alt_sisyphus"
    assert len(mappings(store)) == PAGE_SIZE + 2
    assert run(store, feeds, url).rows == 0
    feed_server.set(f"/api/v1/projects/{first[-1]}/", Reply(page([first[-1], "zlib"])))
    assert run(store, feeds, url).rows == 1
    assert mappings(store)[-1] == ("alt-zzz", "zzz", "inactive")


def test_offline_file_skips_other_repos_and_nameless(
    store: Store, feeds: FeedsSettings, tmp_path: Path
) -> None:
    data = {
        "openssl": project("openssl", "openssl3"),
        "debian-only": project("debian-only"),
        "broken": [{"repo": "alt_sisyphus"}],
    }
    path = tmp_path / "projects.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = run(store, feeds, str(path))
    assert (result.rows, result.skipped) == (1, 1)
    assert mappings(store) == [("openssl3", "openssl", "active")]


def test_failed_page_adds_nothing(
    store: Store, feeds: FeedsSettings, feed_server: FeedServer
) -> None:
    first = [f"p{i:04d}" for i in range(PAGE_SIZE)]
    feed_server.set("/api/v1/projects/", Reply(page(first)))
    feed_server.set(f"/api/v1/projects/{first[-1]}/", Reply(status=500))
    with pytest.raises(UpstreamError, match="HTTP 500"):
        run(store, feeds, feed_server.url + "/api/v1/projects/")
    assert mappings(store) == []
