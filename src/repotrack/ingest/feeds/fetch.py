"""The one HTTP door of the feed loaders: conditional GETs, timeouts, bounded retries, a cap.

Every feed request goes through ``Fetcher.get``:

- a timeout on connect and on each read (``FetchPolicy.timeout``);
- ``If-Modified-Since`` / ``If-None-Match`` when the caller knows what it has; a 304
  answer is returned as ``None`` ("nothing new"), never as an empty document;
- retries, at most ``max_retries``, with a doubling wait, for what may pass: timeouts,
  dropped connections, a body cut short, 5xx and 429 (whose ``Retry-After`` is
  honoured up to a minute). A 4xx other than 429 is final at once;
- a size cap: a body larger than ``max_bytes`` is refused while it streams.

httpx exceptions are translated here, and only here, into ``UpstreamError`` naming
the URL (without its query string, which may be long but holds no secret here).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from types import TracebackType
from typing import Self
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from repotrack import __version__
from repotrack.errors import UpstreamError

__all__ = ["DEFAULT_POLICY", "Document", "FetchPolicy", "Fetcher"]

log = logging.getLogger(__name__)

MAX_WAIT = 60.0


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of every request; the defaults are those of ``[feeds]``."""

    timeout: float = 60.0
    max_retries: int = 3
    retry_wait: float = 2.0
    max_bytes: int = 512 * 1024 * 1024


DEFAULT_POLICY = FetchPolicy()


@dataclass(frozen=True)
class Document:
    """A fetched body with the validators the server sent (``last_modified`` is UTC)."""

    url: str
    content: bytes
    last_modified: datetime | None
    etag: str | None

    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class _RetryableError(Exception):
    """A failure worth another attempt; ``wait`` is what the server asked for, if anything."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class Fetcher:
    """An HTTP client for feeds; ``transport`` lets tests swap the network (rarely needed)."""

    def __init__(
        self, policy: FetchPolicy = DEFAULT_POLICY, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.policy = policy
        self._transport = transport
        self._http: httpx.Client | None = None

    @property
    def _client(self) -> httpx.Client:
        """The HTTP client, made on the first request: making one loads the system's CA
        certificates (about 0.03 s of CPU), which a feed read from local files never uses."""
        if self._http is None:
            self._http = httpx.Client(
                timeout=httpx.Timeout(self.policy.timeout),
                follow_redirects=True,
                headers={"User-Agent": f"repotrack/{__version__}"},
                transport=self._transport,
            )
        return self._http

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def get(
        self,
        url: str,
        *,
        params: dict[str, str] | None = None,
        if_modified_since: datetime | None = None,
        etag: str | None = None,
    ) -> Document | None:
        """The body at ``url``, or None when the server answers 304 Not Modified.

        ``params`` are added to the query ``url`` has (a feed URL configured with a filter
        of its own keeps it): httpx's ``params`` would replace that query."""
        if params:
            parts = urlsplit(url)
            merged = {**dict(parse_qsl(parts.query, keep_blank_values=True)), **params}
            url, params = urlunsplit(parts._replace(query="")), merged
        headers = {}
        if if_modified_since is not None:
            headers["If-Modified-Since"] = format_datetime(
                if_modified_since.astimezone(UTC), usegmt=True
            )
        if etag:
            headers["If-None-Match"] = etag
        retrying = Retrying(
            stop=stop_after_attempt(self.policy.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_RetryableError),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(url, params, headers)
        except _RetryableError as exc:
            attempts = self.policy.max_retries + 1
            raise UpstreamError(f"{exc} (after {attempts} attempts)", url=url) from exc
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _wait(self, state: RetryCallState) -> float:
        asked = None
        if state.outcome is not None and state.outcome.failed:
            error = state.outcome.exception()
            asked = error.wait if isinstance(error, _RetryableError) else None
        doubling = self.policy.retry_wait * 2 ** (state.attempt_number - 1)
        return min(asked if asked is not None else doubling, MAX_WAIT)

    def _once(
        self, url: str, params: dict[str, str] | None, headers: dict[str, str]
    ) -> Document | None:
        try:
            with self._client.stream("GET", url, params=params, headers=headers) as response:
                log.info("feed fetch", extra={"url": url, "status": response.status_code})
                if response.status_code == 304:
                    return None
                self._check_status(response, url)
                content = self._read(response, url)
                return Document(
                    url=url,
                    content=content,
                    last_modified=_http_date(response.headers.get("Last-Modified")),
                    etag=response.headers.get("ETag"),
                )
        except httpx.TimeoutException as exc:
            raise _RetryableError(f"timed out after {self.policy.timeout:g} s") from exc
        except httpx.RemoteProtocolError as exc:
            raise _RetryableError(f"incomplete response: {exc}") from exc
        except httpx.TransportError as exc:
            raise _RetryableError(f"cannot connect: {exc}") from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(f"request failed: {exc}", url=url) from exc

    def _check_status(self, response: httpx.Response, url: str) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            raise _RetryableError(f"HTTP {status}", wait=_retry_after(response))
        if status >= 400:
            raise UpstreamError(f"HTTP {status} {response.reason_phrase}", url=url)

    def _read(self, response: httpx.Response, url: str) -> bytes:
        cap = self.policy.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise UpstreamError(f"body of {declared} bytes exceeds the {cap}-byte cap", url=url)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise UpstreamError(f"body exceeds the {cap}-byte cap", url=url)
            chunks.append(chunk)
        return b"".join(chunks)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
