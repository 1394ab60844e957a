"""HTML directory listings (Apache and nginx autoindex) with the mtime of each entry.

ALT publishes acl lists and beehive logs as plain web directories; the loaders need
each entry's name and its modification time. Both autoindex styles print the time
as text after the link: nginx ``05-Dec-2026 10:00`` in a ``<pre>`` block, Apache
``2026-12-05 10:00`` in a table cell. The time is naive (the server's local zone);
the caller decides what zone it means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import unquote

__all__ = ["ListingEntry", "parse_listing"]

_TIME_FORMATS = (
    (
        re.compile(r"\d{1,2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2}(?::\d{2})?"),
        ("%d-%b-%Y %H:%M:%S", "%d-%b-%Y %H:%M"),
    ),
    (
        re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?"),
        ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"),
    ),
)


@dataclass(frozen=True)
class ListingEntry:
    """One entry: ``name`` without a trailing slash, ``mtime`` naive local time or None."""

    name: str
    is_dir: bool
    mtime: datetime | None


def parse_listing(html: str) -> list[ListingEntry]:
    """The entries of an autoindex page, in page order; parent and sort links left out."""
    parser = _ListingParser()
    parser.feed(html)
    parser.close()
    return [
        ListingEntry(name=name.rstrip("/"), is_dir=name.endswith("/"), mtime=_parse_time(text))
        for name, text in parser.links
    ]


def _parse_time(text: str) -> datetime | None:
    for pattern, formats in _TIME_FORMATS:
        match = pattern.search(text)
        if match is None:
            continue
        for fmt in formats:
            try:
                return datetime.strptime(match.group(0), fmt)
            except ValueError:
                continue
    return None


class _ListingParser(HTMLParser):
    """Collects (href, text that follows the link up to the next link)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._after: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        self._flush()
        href = dict(attrs).get("href") or ""
        self._href = href if _is_entry(href) else None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._after.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        if self._href is not None:
            self.links.append((unquote(self._href), " ".join(self._after)))
        self._href = None
        self._after = []


def _is_entry(href: str) -> bool:
    """A link to an entry of this directory, not to a parent, a sort order or elsewhere."""
    if not href or href.startswith(("?", "#", "/", "..")) or "://" in href:
        return False
    return "/" not in href.rstrip("/")
