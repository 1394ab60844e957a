"""The HTTP door: 304, 404, 500 (retried), truncated bodies, slow servers, the size cap."""

from __future__ import annotations

import pytest

from repotrack.errors import UpstreamError
from repotrack.ingest.feeds import Fetcher, FetchPolicy
from tests.unit.ingest.feeds.feedserver import FeedServer, Reply, utc

FAST = FetchPolicy(timeout=1.0, max_retries=2, retry_wait=0.0, max_bytes=1000)


def test_body_and_validators(feed_server: FeedServer) -> None:
    when = utc(2026, 12, 1, 10, 0, 0)
    feed_server.set("/f", Reply(b"data", last_modified=when, headers={"ETag": '"v1"'}))
    with Fetcher(FAST) as fetcher:
        document = fetcher.get(feed_server.url + "/f")
    assert document is not None
    assert (document.content, document.last_modified, document.etag) == (b"data", when, '"v1"')


def test_not_modified_is_none_and_sends_validators(feed_server: FeedServer) -> None:
    when = utc(2026, 12, 1, 10, 0, 0)
    feed_server.set("/f", Reply(b"data", last_modified=when))
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(feed_server.url + "/f", if_modified_since=when, etag='"v1"') is None
    (seen,) = feed_server.hits("/f")
    assert seen.headers["If-Modified-Since"] == "Tue, 01 Dec 2026 10:00:00 GMT"
    assert seen.headers["If-None-Match"] == '"v1"'


def test_404_is_final_and_names_the_url(feed_server: FeedServer) -> None:
    with Fetcher(FAST) as fetcher, pytest.raises(UpstreamError, match="HTTP 404") as caught:
        fetcher.get(feed_server.url + "/missing")
    assert caught.value.url == feed_server.url + "/missing"
    assert len(feed_server.hits("/missing")) == 1


def test_500_is_retried_then_fails(feed_server: FeedServer) -> None:
    feed_server.set("/f", Reply(b"oops", status=500))
    with Fetcher(FAST) as fetcher, pytest.raises(UpstreamError, match=r"HTTP 500.*3 attempts"):
        fetcher.get(feed_server.url + "/f")
    assert len(feed_server.hits("/f")) == 3


def test_500_then_200_succeeds(feed_server: FeedServer) -> None:
    feed_server.set("/f", Reply(status=503), Reply(b"ok"))
    with Fetcher(FAST) as fetcher:
        document = fetcher.get(feed_server.url + "/f")
    assert document is not None and document.content == b"ok"


def test_truncated_body(feed_server: FeedServer) -> None:
    feed_server.set("/f", Reply(b"x" * 100, truncate=True))
    with Fetcher(FAST) as fetcher, pytest.raises(UpstreamError, match="incomplete") as caught:
        fetcher.get(feed_server.url + "/f")
    assert str(feed_server.url + "/f") in str(caught.value)


def test_slow_server_times_out(feed_server: FeedServer) -> None:
    feed_server.set("/f", Reply(b"late", delay=3.0))
    policy = FetchPolicy(timeout=0.3, max_retries=0, retry_wait=0.0)
    with Fetcher(policy) as fetcher, pytest.raises(UpstreamError, match=r"timed out after 0\.3 s"):
        fetcher.get(feed_server.url + "/f")


def test_size_cap(feed_server: FeedServer) -> None:
    feed_server.set("/f", Reply(b"x" * 5000))
    with Fetcher(FAST) as fetcher, pytest.raises(UpstreamError, match="1000-byte cap"):
        fetcher.get(feed_server.url + "/f")


def test_connection_refused_names_url() -> None:
    policy = FetchPolicy(timeout=0.5, max_retries=0, retry_wait=0.0)
    with Fetcher(policy) as fetcher, pytest.raises(UpstreamError, match="cannot connect"):
        fetcher.get("http://127.0.0.1:9/feed")


def test_errors_name_the_url_without_its_query(feed_server: FeedServer) -> None:
    with Fetcher(FAST) as fetcher, pytest.raises(UpstreamError) as caught:
        fetcher.get(feed_server.url + "/buglist.cgi", params={"ctype": "csv", "limit": "0"})
    assert str(caught.value) == f"{feed_server.url}/buglist.cgi: HTTP 404 Not Found"
    assert feed_server.hits("/buglist.cgi")[0].query == "ctype=csv&limit=0"


def test_the_http_client_is_made_on_the_first_request_only(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed read from local files never pays for a client (the CA certificates)."""
    import httpx

    made: list[object] = []
    real = httpx.Client

    def client(*args: object, **kwargs: object) -> httpx.Client:
        made.append(kwargs)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx, "Client", client)
    with Fetcher(FAST):
        pass
    assert made == []
    feed_server.set("/a", Reply(b"one"))
    with Fetcher(FAST) as fetcher:
        first = fetcher.get(feed_server.url + "/a")
        second = fetcher.get(feed_server.url + "/a")
    assert first is not None and second is not None
    assert (first.content, second.content) == (b"one", b"one")
    assert len(made) == 1
