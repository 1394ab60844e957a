from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.config import FeedsSettings
from repotrack.ingest.feeds import FeedRequest, FeedResult, run_feed
from repotrack.store import Store
from tests.unit.ingest.feeds.feedserver import feed_server
from tests.unit.store.storeutil import open_fresh_store

__all__ = ["feed_server"]


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty chDB store of this test."""
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


@pytest.fixture
def feeds() -> FeedsSettings:
    """Short limits so that failing servers fail fast: 1 s timeout, one retry, no wait."""
    return FeedsSettings(timeout=1.0, max_retries=1, retry_wait=0.0, max_bytes=1024 * 1024)


def run(store: Store, settings: FeedsSettings, feed: str, location: str) -> FeedResult:
    return run_feed(store, settings, FeedRequest(feed=feed, location=location))
