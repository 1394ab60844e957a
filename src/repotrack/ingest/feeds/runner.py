"""One entry point per feed, by name: what the CLI, the REST route, the scheduler and
AMQP messages all call (``run_feed("watch", store=..., settings=...)``).

``FEEDS`` is the explicit registry (a test pins its names). Each runner takes the
``[feeds]`` settings and an optional ``location`` (URL or local path) that replaces
the configured one, which is how a user loads a feed offline from a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from repotrack.config import FeedsSettings
from repotrack.errors import ConfigError, InputError
from repotrack.ingest.feeds.acl import load_acl
from repotrack.ingest.feeds.beehive import load_beehive
from repotrack.ingest.feeds.bugzilla import load_bugzilla
from repotrack.ingest.feeds.fetch import Fetcher, FetchPolicy
from repotrack.ingest.feeds.repology import load_repology
from repotrack.ingest.feeds.result import FeedResult
from repotrack.ingest.feeds.snapshots import load_repocop, load_watch
from repotrack.ingest.feeds.source import FeedSource
from repotrack.ingest.feeds.spdx import load_spdx
from repotrack.store import Store

__all__ = ["FEEDS", "FeedRequest", "fetch_policy", "run_feed"]


@dataclass(frozen=True)
class FeedRequest:
    """One run of one feed: ``location`` replaces the configured URL; ``branches`` and
    ``arches`` narrow the feeds that have them (acl, beehive); ``options`` holds the
    rest: ``git_root`` and ``update`` ("0"/"1") for spdx, ``repos`` (comma-separated)
    for repology."""

    feed: str
    location: str | None = None
    branches: tuple[str, ...] = ()
    arches: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)


Runner = Callable[[Store, FeedSource, FeedsSettings, FeedRequest], FeedResult]


def _acl(store: Store, source: FeedSource, _s: FeedsSettings, r: FeedRequest) -> FeedResult:
    return load_acl(store, source, branches=frozenset(r.branches) or None)


def _beehive(store: Store, source: FeedSource, s: FeedsSettings, r: FeedRequest) -> FeedResult:
    branches = r.branches or tuple(s.beehive_branches)
    return load_beehive(store, source, branches=branches, arches=r.arches or s.beehive_arches)


def _bugzilla(store: Store, source: FeedSource, _s: FeedsSettings, _r: FeedRequest) -> FeedResult:
    return load_bugzilla(store, source)


def _repocop(store: Store, source: FeedSource, _s: FeedsSettings, _r: FeedRequest) -> FeedResult:
    return load_repocop(store, source)


def _watch(store: Store, source: FeedSource, _s: FeedsSettings, _r: FeedRequest) -> FeedResult:
    return load_watch(store, source)


def _spdx(store: Store, source: FeedSource, s: FeedsSettings, r: FeedRequest) -> FeedResult:
    root = r.options.get("git_root") or s.spdx_git_root or Path.home() / "SPDX"
    update = r.options.get("update", "1") == "1"
    return load_spdx(store, git_root=Path(root), git_url=source.location, update=update)


def _repology(store: Store, source: FeedSource, s: FeedsSettings, r: FeedRequest) -> FeedResult:
    repos = [x for x in r.options.get("repos", "").split(",") if x] or s.repology_repos
    return load_repology(store, source, repos=repos)


#: Feed name -> (configured location, runner).
FEEDS: dict[str, tuple[Callable[[FeedsSettings], str], Runner]] = {
    "acl": (lambda s: s.acl_url, _acl),
    "beehive": (lambda s: s.beehive_url, _beehive),
    "bugzilla": (lambda s: s.bugzilla_url, _bugzilla),
    "repocop": (lambda s: s.repocop_url, _repocop),
    "watch": (lambda s: s.watch_url, _watch),
    "spdx": (lambda s: s.spdx_git_url, _spdx),
    "repology": (lambda s: s.repology_url, _repology),
}


def fetch_policy(settings: FeedsSettings) -> FetchPolicy:
    return FetchPolicy(
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        retry_wait=settings.retry_wait,
        max_bytes=settings.max_bytes,
    )


def source_zone(settings: FeedsSettings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.source_timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {settings.source_timezone!r}", key="feeds.source_timezone"
        ) from exc


def run_feed(store: Store, settings: FeedsSettings, request: FeedRequest) -> FeedResult:
    """Run one feed into ``store`` and say what it added."""
    if request.feed not in FEEDS:
        raise InputError(f"unknown feed; feeds are {', '.join(FEEDS)}", field=request.feed)
    configured, runner = FEEDS[request.feed]
    with Fetcher(fetch_policy(settings)) as fetcher:
        source = FeedSource(
            request.location or configured(settings), fetcher=fetcher, zone=source_zone(settings)
        )
        return runner(store, source, settings, request)
