"""Every HTTP feed against a failing server: one clear UpstreamError naming the URL, no rows."""

from __future__ import annotations

import pytest

from repotrack.config import FeedsSettings
from repotrack.errors import UpstreamError
from repotrack.ingest.feeds import FeedRequest, run_feed
from repotrack.store import Store
from tests.unit.ingest.feeds.feedserver import FeedServer, Reply

TABLES = {
    "acl": "Acl",
    "beehive": "BeehiveStatus",
    "bugzilla": "Bugzilla",
    "repocop": "PackagesRepocop",
    "watch": "PackagesWatch",
    "repology": "PackagesNameConversion",
}
FAILURES = {
    "500": (Reply(b"oops", status=500), "HTTP 500"),
    "truncated": (Reply(b"x" * 200, truncate=True), "incomplete response"),
    "slow": (Reply(b"late", delay=2.0), "timed out after 0.3 s"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("feed", list(TABLES))
def test_failing_server(
    store: Store, feeds: FeedsSettings, feed_server: FeedServer, feed: str, failure: str
) -> None:
    reply, message = FAILURES[failure]
    feed_server.default = reply
    # Only the slow server's case waits for the timeout; the others get a long one, so
    # that a busy machine cannot turn their failure into a timeout (seen in CI at load 8).
    timeout = 0.3 if failure == "slow" else 30.0
    fast = feeds.model_copy(update={"timeout": timeout, "max_retries": 1, "retry_wait": 0.0})
    with pytest.raises(UpstreamError) as caught:
        run_feed(store, fast, FeedRequest(feed, location=feed_server.url + "/feed"))
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{feed_server.url}/feed")
    assert "2 attempts" in str(caught.value)
    assert store.query(f"SELECT count() FROM {TABLES[feed]}") == [(0,)]  # noqa: S608
