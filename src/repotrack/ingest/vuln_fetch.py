"""Reading vulnerability feeds over HTTP: conditional GETs and the NVD API's paging.

Files served over HTTP(S) are fetched with the ``ETag`` / ``Last-Modified`` of the copy
read last time (``VulnFeedState``); a ``304 Not Modified`` reads nothing. The NVD CVE
API 2.0 (a URL whose path ends in ``/cves/2.0``) and the NVD CPE Match Criteria API 2.0
(``/cpematch/2.0``) are paged with ``startIndex`` and ``resultsPerPage`` (at most 2000
and 500 items) until ``totalResults``; when the previous read is less than 120 days old
(the APIs' longest window) only records modified since then are asked for, with
``lastModStartDate`` / ``lastModEndDate``.

Every request has a timeout; a 429 or 503 waits as the ``Retry-After`` header says (or
backs off exponentially) and is retried a bounded number of times; anything else that
is not a success is an ``UpstreamError`` naming the URL. The feed state is written
only after the caller stored what was read, so an interrupted load reads it again.

The NVD APIs allow 5 requests in a rolling 30 seconds without an API key and 50 with
one, and answer a request over the limit with ``403 Forbidden``: pages are asked for
at most one every ``NVD_PACE`` seconds (6 s, or 0.6 s with a key, as NVD asks), and a
403 from an NVD API is waited for and retried like a 429. The key (``[vulns]
nvd_api_key`` or ``nvd_api_key_file``, ``REPOTRACK_VULNS__NVD_API_KEY``) goes in the
``apiKey`` header of NVD API requests only, never to another URL, and is never logged.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from repotrack.errors import UpstreamError
from repotrack.store.base import Store

if TYPE_CHECKING:  # imported when a URL is read: a local load (or a hand-off) never needs it
    import httpx

__all__ = ["FeedRead", "is_url", "read_feed", "save_feed_state"]

TIMEOUT: Final = 60.0
MAX_RETRIES: Final = 4
MAX_WAIT: Final = 120.0
NVD_PAGE: Final = 2000
#: The paged NVD APIs: URL path suffix → (largest page, the key of a page's items).
NVD_APIS: Final = {
    "/cves/2.0": (NVD_PAGE, "vulnerabilities"),
    "/cpematch/2.0": (500, "matchStrings"),
}
NVD_WINDOW: Final = timedelta(days=120)
#: Seconds between two requests to an NVD API: without an API key, and with one.
NVD_PACE: Final = {False: 6.0, True: 0.6}


@dataclass
class FeedRead:
    """What one URL gave: documents (empty when unchanged) and the state to save after."""

    url: str
    documents: list[bytes]
    etag: str = ""
    last_modified: str = ""
    fetched: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    not_modified: bool = False


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def read_feed(
    store: Store, url: str, *, client: httpx.Client | None = None, nvd_api_key: str = ""
) -> FeedRead:
    """Fetch ``url`` (conditionally, or page by page for the NVD API, with
    ``nvd_api_key`` when given)."""
    import httpx

    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    try:
        previous = _state(store, url)
        path = urlsplit(url).path.rstrip("/")
        for suffix, (page, key) in NVD_APIS.items():
            if path.endswith(suffix):
                return _read_nvd_api(http, url, previous, page=page, key=key, api_key=nvd_api_key)
        return _read_file(http, url, previous)
    finally:
        if own:
            http.close()


def save_feed_state(store: Store, read: FeedRead) -> None:
    if read.not_modified:
        return
    store.insert(
        "VulnFeedState",
        ("vfs_url", "vfs_etag", "vfs_last_modified", "vfs_fetched"),
        [(read.url, read.etag, read.last_modified, read.fetched)],
    )


def _state(store: Store, url: str) -> tuple[str, str, datetime] | None:
    rows = store.query(
        "SELECT argMax(vfs_etag, ts), argMax(vfs_last_modified, ts), argMax(vfs_fetched, ts) "
        "FROM VulnFeedState WHERE vfs_url = {u:String} GROUP BY vfs_url",
        {"u": url},
    )
    return (str(rows[0][0]), str(rows[0][1]), rows[0][2]) if rows else None


def _read_file(
    http: httpx.Client, url: str, previous: tuple[str, str, datetime] | None
) -> FeedRead:
    headers = {}
    if previous is not None:
        if previous[0]:
            headers["If-None-Match"] = previous[0]
        if previous[1]:
            headers["If-Modified-Since"] = previous[1]
    now = datetime.now(UTC)
    response = _get(http, url, headers=headers)
    if response.status_code == 304:
        return FeedRead(url, [], not_modified=True)
    return FeedRead(
        url,
        [response.content],
        etag=response.headers.get("ETag", ""),
        last_modified=response.headers.get("Last-Modified", ""),
        fetched=now,
    )


def _read_nvd_api(
    http: httpx.Client,
    url: str,
    previous: tuple[str, str, datetime] | None,
    *,
    page: int,
    key: str,
    api_key: str = "",
) -> FeedRead:
    now = datetime.now(UTC).replace(microsecond=0)
    params: dict[str, str | int] = {"resultsPerPage": page}
    given = {name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
    if previous is not None and now - previous[2] < NVD_WINDOW and "lastModStartDate" not in given:
        params["lastModStartDate"] = previous[2].strftime("%Y-%m-%dT%H:%M:%S.000Z")
        params["lastModEndDate"] = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return FeedRead(url, list(_pages(http, url, params, key, api_key)), fetched=now)


def _pages(
    http: httpx.Client, url: str, params: dict[str, str | int], key: str, api_key: str
) -> Iterator[bytes]:
    """The pages of ``url``, its own query (the user's filters, ``noRejected`` without a
    value included) kept as written and ``params`` added: httpx's ``params`` would
    replace the query, and a URL asking for one keyword would read all of NVD."""
    parts = urlsplit(url)
    kept = [
        piece
        for piece in parts.query.split("&")
        if piece and piece.split("=", 1)[0] not in {*params, "startIndex"}
    ]
    start = 0
    headers = {"apiKey": api_key} if api_key else None
    pace = NVD_PACE[bool(api_key)]
    asked = 0.0
    while True:
        wait = asked + pace - time.monotonic()
        if asked and wait > 0:
            time.sleep(wait)
        asked = time.monotonic()
        query = "&".join([*kept, urlencode({**params, "startIndex": start})])
        response = _get(
            http, urlunsplit(parts._replace(query=query)), headers=headers, throttled=403
        )
        try:
            body = response.json()
            total = int(body["totalResults"])
            count = len(body[key])
        except (ValueError, KeyError, TypeError) as exc:
            raise UpstreamError(f"{url}: not an NVD API page ({exc})") from exc
        yield response.content
        start += count
        if count == 0 or start >= total:
            return


def _get(
    http: httpx.Client,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str | int] | None = None,
    throttled: int = 429,
) -> httpx.Response:
    """GET ``url``, waiting and retrying when the server is busy (429, 503, and
    ``throttled``: NVD's APIs answer a request over their rate limit with 403)."""
    import httpx

    for attempt in range(MAX_RETRIES + 1):
        try:
            response = http.get(url, headers=headers, params=params)
        except httpx.HTTPError as exc:
            if attempt == MAX_RETRIES:
                raise UpstreamError(f"{url}: {exc}") from exc
            time.sleep(min(2.0**attempt, MAX_WAIT))
            continue
        if response.status_code in (429, 503, throttled) and attempt < MAX_RETRIES:
            time.sleep(_retry_after(response, attempt))
            continue
        if response.status_code == 304 or response.is_success:
            return response
        hint = ""
        if response.status_code == throttled != 429:
            hint = " (NVD's rate limit: set [vulns] nvd_api_key for a higher one)"
        raise UpstreamError(f"{url}: HTTP {response.status_code}{hint}")
    raise UpstreamError(f"{url}: still refused after {MAX_RETRIES} retries")


def _retry_after(response: httpx.Response, attempt: int) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return min(max(float(value), 0.0), MAX_WAIT)
    except ValueError:
        return min(2.0**attempt, MAX_WAIT)
