"""Enrichment feed loaders (reference/altrepo.md §5): acl, beehive, bugzilla, repocop, watch,
spdx and repology.

``run_feed`` runs one by name; ``FeedResult`` says what it added; the message
handlers for the daemon live in ``ingest.feeds.messages``.
"""

from repotrack.ingest.feeds.fetch import Document, Fetcher, FetchPolicy
from repotrack.ingest.feeds.messages import (
    handle_acl_message,
    handle_bugzilla_message,
    handle_feed_load_message,
)
from repotrack.ingest.feeds.result import FeedResult
from repotrack.ingest.feeds.runner import FEEDS, FeedRequest, fetch_policy, run_feed
from repotrack.ingest.feeds.source import FeedSource

__all__ = [
    "FEEDS",
    "Document",
    "FeedRequest",
    "FeedResult",
    "FeedSource",
    "FetchPolicy",
    "Fetcher",
    "fetch_policy",
    "handle_acl_message",
    "handle_bugzilla_message",
    "handle_feed_load_message",
    "run_feed",
]
