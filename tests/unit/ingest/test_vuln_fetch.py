"""Feeds over HTTP against a local server: conditional GETs, NVD API paging, retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from repotrack.errors import UpstreamError
from repotrack.ingest.vulns import VulnLoad, load_vulns
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.store.storeutil import open_fresh_store

PAGE_CAP = 15  # the emulated API returns fewer items than asked for, as NVD may


class Feeds:
    """What the server serves and every request it got."""

    def __init__(self) -> None:
        self.record = need_fixtures("cve", "nvd-2.0", "records", "CVE-2021-36370.json").read_bytes()
        page = json.loads(
            need_fixtures("cve", "nvd-2.0", "api-responses", "full-page.json").read_bytes()
        )
        self.items: list[Any] = page["vulnerabilities"]
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str], str]] = []
        self.busy = 1
        self.limited = 1  # NVD answers a request over its rate limit with 403


@pytest.fixture
def server() -> Iterator[tuple[str, Feeds]]:
    feeds = Feeds()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            feeds.requests.append((url.path, query, dict(self.headers), url.query))
            if url.path == "/feeds/record.json":
                if self.headers.get("If-None-Match") == '"v1"':
                    self._send(304, b"")
                else:
                    self._send(200, feeds.record, {"ETag": '"v1"'})
            elif url.path.startswith("/limited/") and feeds.limited:
                feeds.limited -= 1
                self._send(403, b"Forbidden")
            elif url.path.endswith("/rest/json/cves/2.0"):
                start = int(query["startIndex"][0])
                size = min(int(query["resultsPerPage"][0]), PAGE_CAP)
                chunk = feeds.items[start : start + size]
                body = {
                    "resultsPerPage": len(chunk),
                    "startIndex": start,
                    "version": "2.0",
                    "totalResults": len(feeds.items),
                    "vulnerabilities": chunk,
                }
                self._send(200, json.dumps(body).encode())
            elif url.path == "/busy.json" and feeds.busy:
                feeds.busy -= 1
                self._send(429, b"slow down", {"Retry-After": "0"})
            elif url.path == "/busy.json":
                self._send(200, feeds.record)
            else:
                self._send(404, b"no such feed")

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", feeds
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture(autouse=True)
def no_pace(monkeypatch: pytest.MonkeyPatch) -> dict[bool, float]:
    """NVD's pace (6 s between pages without a key) would make each paged test wait."""
    pace = {False: 0.0, True: 0.0}
    monkeypatch.setattr("repotrack.ingest.vuln_fetch.NVD_PACE", pace)
    return pace


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def test_a_feed_file_is_read_again_only_when_it_changed(
    store: Store, server: tuple[str, Feeds]
) -> None:
    base, feeds = server
    first = load_vulns(store, source="nvd", paths=[f"{base}/feeds/record.json"])
    assert (first.files, first.written, first.not_modified) == (1, 1, 0)
    second = load_vulns(store, source="nvd", paths=[f"{base}/feeds/record.json"])
    assert (second.files, second.written, second.not_modified) == (0, 0, 1)
    assert feeds.requests[-1][2].get("If-None-Match") == '"v1"'


def test_the_nvd_api_is_paged_then_asked_for_changes_only(
    store: Store, server: tuple[str, Feeds]
) -> None:
    base, feeds = server
    url = f"{base}/rest/json/cves/2.0"
    first = load_vulns(store, source="nvd", paths=[url])
    assert (first.files, first.records, first.written) == (3, 38, 38)  # 15 + 15 + 8
    assert [r[1]["startIndex"] for r in feeds.requests] == [["0"], ["15"], ["30"]]
    assert all("lastModStartDate" not in r[1] for r in feeds.requests)
    again = load_vulns(store, source="nvd", paths=[url])
    assert again.written == 0 and again.unchanged == 38
    last = feeds.requests[-1][1]
    assert "lastModStartDate" in last and "lastModEndDate" in last


def test_rate_limits_are_waited_out_and_errors_name_the_url(
    store: Store, server: tuple[str, Feeds]
) -> None:
    base, _ = server
    assert load_vulns(store, source="nvd", paths=[f"{base}/busy.json"]).written == 1
    with pytest.raises(UpstreamError, match=r"/missing.json: HTTP 404"):
        load_vulns(store, source="nvd", paths=[f"{base}/missing.json"])


def test_the_nvd_api_key_goes_to_the_nvd_api_only(store: Store, server: tuple[str, Feeds]) -> None:
    base, feeds = server
    key = "0f1e2d3c-secret"
    request = VulnLoad("nvd", (f"{base}/rest/json/cves/2.0",), key)
    # a handed-off load sends as_dict (the service uses its own key): no key in it
    assert key not in repr(request) and key not in repr(request.as_dict())
    load_vulns(store, source="nvd", paths=[f"{base}/rest/json/cves/2.0"], nvd_api_key=key)
    pages = [r for r in feeds.requests if r[0] == "/rest/json/cves/2.0"]
    assert len(pages) == 3 and all(r[2].get("apiKey") == key for r in pages)
    load_vulns(store, source="nvd", paths=[f"{base}/feeds/record.json"], nvd_api_key=key)
    assert "apiKey" not in feeds.requests[-1][2]
    load_vulns(store, source="nvd", paths=[f"{base}/rest/json/cves/2.0"])
    assert "apiKey" not in feeds.requests[-1][2]


def test_nvd_pages_are_paced_and_its_403_is_waited_for(
    store: Store,
    server: tuple[str, Feeds],
    monkeypatch: pytest.MonkeyPatch,
    no_pace: dict[bool, float],
) -> None:
    """NVD: 5 requests in 30 s without a key (one every 6 s), 50 with one; a request
    over the limit gets 403 (https://nvd.nist.gov/developers/start-here)."""
    base, _ = server
    no_pace.update({False: 6.0, True: 0.6})
    slept: list[float] = []
    monkeypatch.setattr("repotrack.ingest.vuln_fetch.time.sleep", slept.append)
    url = f"{base}/limited/rest/json/cves/2.0"
    first = load_vulns(store, source="nvd", paths=[url])
    assert (first.written, first.problems) == (38, [])
    assert len([s for s in slept if s > 5.0]) == 2  # three pages, two waits of about 6 s
    assert slept[0] == 1.0  # the 403: backed off, then asked again
    slept.clear()
    store.command("TRUNCATE TABLE VulnFeedState")
    load_vulns(store, source="nvd", paths=[url], nvd_api_key="k")
    assert len(slept) == 2 and all(0.5 < s <= 0.6 for s in slept)


def test_the_nvd_api_keeps_the_filters_of_the_url(store: Store, server: tuple[str, Feeds]) -> None:
    """A URL that asks NVD for part of the data (a keyword, a CPE, ``noRejected``) is paged
    with its filters; httpx's ``params`` would have replaced them, and every CVE of NVD
    would have been read."""
    base, feeds = server
    url = f"{base}/rest/json/cves/2.0?keywordSearch=openssl&noRejected&resultsPerPage=20"
    assert load_vulns(store, source="nvd", paths=[url]).written == 38
    pages = [r for r in feeds.requests if r[0] == "/rest/json/cves/2.0"]
    assert len(pages) == 3
    for _, query, _, _ in pages:
        assert query["keywordSearch"] == ["openssl"]
        assert query["resultsPerPage"] == ["2000"]  # ours, once
    assert all("noRejected" in r[3] for r in pages)
