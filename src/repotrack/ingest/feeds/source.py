"""Where a feed is read from: an HTTP(S) base URL or a local file/directory (offline).

A loader asks its ``FeedSource`` for a directory listing (names with UTC mtimes) or a
document (bytes with a UTC Last-Modified) by a path relative to the feed's location,
and never needs to know which kind it has. Locally, a file's mtime plays the part of
Last-Modified, and ``if_modified_since`` answers "nothing new" the way a 304 would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from urllib.parse import quote

from repotrack.errors import InputError
from repotrack.ingest.feeds.fetch import Document, Fetcher
from repotrack.sources.feeds import parse_listing

__all__ = ["Entry", "FeedSource", "is_url"]


@dataclass(frozen=True)
class Entry:
    """A listing entry with its modification time in UTC (None when the listing has none)."""

    name: str
    is_dir: bool
    mtime: datetime | None


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


class FeedSource:
    """One feed location; ``zone`` is the zone of the times an HTML listing prints."""

    def __init__(self, location: str, *, fetcher: Fetcher, zone: tzinfo) -> None:
        if not location:
            raise InputError("must not be empty", field="source")
        if "://" in location and not is_url(location):
            raise InputError("only http://, https:// or a local path", field=location)
        self.location = location
        self.fetcher = fetcher
        self.zone = zone
        self.local = not is_url(location)

    def where(self, rel: str = "") -> str:
        """The URL or path of ``rel`` (for messages and problem reports)."""
        if self.local:
            return str(Path(self.location, rel)) if rel else self.location
        base = self.location.rstrip("/")
        return f"{base}/{quote(rel)}" if rel else self.location

    def listing(self, rel: str = "") -> list[Entry]:
        if self.local:
            return self._local_listing(Path(self.location, rel))
        document = self.fetcher.get(self.where(rel).rstrip("/") + "/")
        if document is None:  # no validators were sent, so a 304 is the server's error
            return []
        return [
            Entry(e.name, e.is_dir, _to_utc(e.mtime, self.zone) if e.mtime else None)
            for e in parse_listing(document.text())
        ]

    def document(
        self,
        rel: str = "",
        *,
        params: dict[str, str] | None = None,
        if_modified_since: datetime | None = None,
    ) -> Document | None:
        """The body of ``rel``; None when it has not changed since ``if_modified_since``."""
        if not self.local:
            return self.fetcher.get(
                self.where(rel), params=params, if_modified_since=if_modified_since
            )
        path = Path(self.where(rel))
        mtime = _mtime(path)
        if if_modified_since is not None and mtime <= if_modified_since:
            return None
        cap = self.fetcher.policy.max_bytes
        if path.stat().st_size > cap:
            raise InputError(f"larger than the {cap}-byte cap", path=str(path))
        return Document(url=str(path), content=path.read_bytes(), last_modified=mtime, etag=None)

    def _local_listing(self, path: Path) -> list[Entry]:
        if not path.is_dir():
            raise InputError("no such directory", path=str(path))
        return [
            Entry(child.name, child.is_dir(), _mtime(child)) for child in sorted(path.iterdir())
        ]


def _mtime(path: Path) -> datetime:
    try:
        seconds = path.stat().st_mtime
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from exc
    return datetime.fromtimestamp(int(seconds), UTC)


def _to_utc(naive: datetime, zone: tzinfo) -> datetime:
    return naive.replace(tzinfo=zone).astimezone(UTC)
