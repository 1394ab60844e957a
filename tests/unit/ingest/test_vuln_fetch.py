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
from repotrack.ingest.vulns import load_vulns
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
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self.busy = 1


@pytest.fixture
def server() -> Iterator[tuple[str, Feeds]]:
    feeds = Feeds()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            feeds.requests.append((url.path, query, dict(self.headers)))
            if url.path == "/feeds/record.json":
                if self.headers.get("If-None-Match") == '"v1"':
                    self._send(304, b"")
                else:
                    self._send(200, feeds.record, {"ETag": '"v1"'})
            elif url.path == "/rest/json/cves/2.0":
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
    assert [q["startIndex"] for _, q, _ in feeds.requests] == [["0"], ["15"], ["30"]]
    assert all("lastModStartDate" not in q for _, q, _ in feeds.requests)
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
