"""The single HTTP door of the forge adapters: timeouts, retries, rate limits, redaction.

Every forge call goes through :class:`ForgeHttp`, so the policy lives in one place:

- **Timeout** on every request (``DEFAULT_TIMEOUT`` unless configured).
- **Retries** with exponential backoff (``BACKOFF_BASE * 2**attempt``, capped at
  ``BACKOFF_CAP``), at most ``max_retries`` per call, for connection failures and 5xx.
- **Which calls may be retried.** A request that never reached the server (connection
  refused, connect timeout) and one the server refused because of a rate limit are safe
  to repeat for any method. A read that timed out or a 5xx may have taken effect on the
  server: it is retried only for idempotent methods (GET, PUT, DELETE). A POST that ends
  that way raises :class:`UncertainOutcomeError`; the adapters wrap their creating POSTs in
  :meth:`ForgeHttp.create_guarded`, which first *looks* for the object (issue by exact
  title and body, pull request by head branch) and only re-POSTs when it is not there.
  So a retry never opens a second issue or PR.
- **Rate limits.** ``Retry-After`` (seconds or an HTTP date) wins; else
  ``X-RateLimit-Remaining: 0`` with ``X-RateLimit-Reset`` (GitHub, epoch seconds) or
  GitLab's ``RateLimit-Reset``; a bare 429, or a 403 whose message says rate limit
  (Gitee, GitLab application limits), backs off exponentially; a GitHub
  secondary-limit 403 waits 60 s. A wait up to ``max_wait`` seconds is slept (through
  the injectable ``sleep``), a longer one raises ``RateLimitError(retry_at=...)`` so the
  scheduler can park the forge. A successful answer that says the quota is used up
  (``remaining: 0``) makes the *next* call wait or raise the same way before sending.
- **Secrets** never reach a log line or an exception message: the token values and any
  ``access_token=``/``private_token=`` parameter are replaced by ``***``. httpx's own
  INFO line (which prints the URL, and Gitee GETs carry the token in the query) is
  redacted by a filter on the ``httpx`` logger.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from repotrack.errors import ConfigError, ForgeError, RateLimitError

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_WAIT",
    "DEFAULT_TIMEOUT",
    "ForgeHttp",
    "UncertainOutcomeError",
    "redact",
]

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 4
#: The longest rate-limit wait (seconds) a call sleeps through before raising RateLimitError.
DEFAULT_MAX_WAIT = 60.0
#: Find-by-listing stops after this many pages (of up to 100, Gitea 50) items.
DEFAULT_MAX_PAGES = 20
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
SECONDARY_LIMIT_WAIT = 60.0
#: A 403 body that means "slow down" on forges that send no rate-limit headers (Gitee,
#: GitLab's application limits): English and the Chinese wording Gitee uses.
_RATE_LIMIT_WORDS = re.compile(
    r"rate.?limit|too many (?:requests|times)|retry later|频率|限流|过于频繁", re.IGNORECASE
)
USER_AGENT = "repotrack-patch-tracking"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

_SECRET_PARAM = re.compile(r"(?i)\b(access_token|private_token|token)=([^&\s\"']+)")
_SECRET_HEADER = re.compile(r"(?i)\b(authorization|private-token)(\"?\s*[:=]\s*\"?)([^\"\n,}]+)")
_URL_PASSWORD = re.compile(r"(://[^/:@\s]+):[^/@\s]+@")
_MIN_SECRET_LEN = 4


class UncertainOutcomeError(ForgeError):
    """A non-idempotent request failed in a way that may or may not have taken effect."""


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with token values, token query/form parameters and URL passwords masked."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LEN:
            text = text.replace(secret, "***")
    text = _SECRET_PARAM.sub(r"\1=***", text)
    text = _SECRET_HEADER.sub(r"\1\2***", text)
    return _URL_PASSWORD.sub(r"\1:***@", text)


class _RedactingFilter(logging.Filter):
    """Masks token parameters in records of the ``httpx`` logger (it logs full URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def _install_httpx_filter() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
        logger.addFilter(_RedactingFilter())


def _utcnow() -> datetime:
    return datetime.now(UTC)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _epoch_wait(value: str | None, now: datetime) -> float | None:
    if value is None or not value.strip().isdigit():
        return None
    reset = datetime.fromtimestamp(int(value.strip()), UTC)
    # One extra second absorbs clock skew and the reset's whole-second rounding.
    return max(0.0, (reset - now).total_seconds()) + 1.0


class ForgeHttp:
    """An httpx client bound to one forge API with repotrack's call policy (module docstring)."""

    def __init__(
        self,
        *,
        forge: str,
        api_url: str,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_wait: float = DEFAULT_MAX_WAIT,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        _install_httpx_filter()
        self.forge = forge
        self.api_url = api_url.rstrip("/")
        self.max_retries = max_retries
        self.max_wait = max_wait
        self._secrets = [s for s in secrets if s]
        self._sleep = sleep
        self._now = now
        self._blocked_until: datetime | None = None
        try:
            self._client = httpx.Client(
                base_url=self.api_url,
                headers={"User-Agent": USER_AGENT, **(headers or {})},
                timeout=timeout,
                transport=transport,
                follow_redirects=True,
            )
        except httpx.InvalidURL as exc:
            raise ConfigError(f"{self.redact(api_url)}: {exc}", key="api_url") from exc

    def close(self) -> None:
        self._client.close()

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    # -- the request loop ---------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        expect: Iterable[int] = (200, 201),
    ) -> httpx.Response:
        """Send one call, retrying as the module docstring describes; answer or ForgeError."""
        idempotent = method in IDEMPOTENT_METHODS
        expected = set(expect)
        attempt = 0
        while True:
            self._respect_quota()
            try:
                response = self._client.request(
                    method, path, params=params, data=data, json=json_body
                )
            except httpx.UnsupportedProtocol as exc:
                raise self._transport_error(method, path, exc, uncertain=False) from exc
            except httpx.TransportError as exc:
                reached = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if attempt >= self.max_retries or (reached and not idempotent):
                    raise self._transport_error(method, path, exc, uncertain=reached) from exc
                self._backoff(attempt, f"{type(exc).__name__}")
                attempt += 1
                continue
            except (httpx.RequestError, httpx.InvalidURL) as exc:
                # Not a network failure (too many redirects, undecodable body, bad URL):
                # repeating it would fail the same way.
                raise self._transport_error(method, path, exc, uncertain=False) from exc
            self._log_call(method, response)
            self._note_quota(response)
            wait = self._rate_limit_wait(response, attempt)
            if wait is not None:
                if wait > self.max_wait or attempt >= self.max_retries:
                    raise self._rate_limit_error(method, response, wait)
                _log.info("forge rate limited: %s waits %.1f s", self.forge, wait)
                self._sleep(wait)
                attempt += 1
                continue
            if response.status_code >= 500 and idempotent and attempt < self.max_retries:
                self._backoff(attempt, f"HTTP {response.status_code}")
                attempt += 1
                continue
            if response.status_code not in expected:
                raise self._status_error(method, response, uncertain=not idempotent)
            return response

    def json(self, response: httpx.Response) -> Any:
        """The decoded JSON body, or ForgeError naming the call."""
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ForgeError(
                f"{response.request.method} {self._where(response.request)}: answer is not JSON",
                forge=self.forge,
                status=response.status_code,
            ) from exc

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        size_param: str = "per_page",
        size: int = 100,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> Iterator[dict[str, Any]]:
        """Items of a list endpoint, page after page, at most ``max_pages`` pages.

        The end is read from ``Link`` (``rel="next"``), GitLab's ``x-next-page``, Gitee's
        ``total_page``, or, when the forge sends none of these, a short page.
        """
        for page in range(1, max_pages + 1):
            response = self.request("GET", path, params={**params, "page": page, size_param: size})
            items = self.json(response)
            if not isinstance(items, list):
                raise ForgeError(
                    f"GET {self._where(response.request)}: expected a list",
                    forge=self.forge,
                    status=response.status_code,
                )
            yield from (item for item in items if isinstance(item, dict))
            if not items or not _has_next_page(response, page, len(items), size):
                return
        _log.warning("forge list truncated: %s %s after %d pages", self.forge, path, max_pages)

    def create_guarded(self, create: Callable[[], _T], find: Callable[[], _T | None]) -> _T:
        """Run a creating POST; after an uncertain failure, look before posting again."""
        attempt = 0
        while True:
            try:
                return create()
            except UncertainOutcomeError:
                if attempt >= self.max_retries:
                    raise
                self._backoff(attempt, "uncertain create")
                attempt += 1
                found = find()
                if found is not None:
                    _log.info("forge create already took effect: %s", self.forge)
                    return found

    # -- rate limits ------------------------------------------------------------------
    def _rate_limit_wait(self, response: httpx.Response, attempt: int) -> float | None:
        status = response.status_code
        if status not in (403, 429, 503):
            return None
        headers = response.headers
        now = self._now()
        retry_after = parse_retry_after(headers.get("retry-after"), now)
        if retry_after is not None:
            return retry_after
        if status == 503:
            return None
        remaining = headers.get("x-ratelimit-remaining", headers.get("ratelimit-remaining"))
        reset = headers.get("x-ratelimit-reset", headers.get("ratelimit-reset"))
        if remaining == "0" or (status == 429 and reset is not None):
            wait = _epoch_wait(reset, now)
            if wait is not None:
                return wait
        if status == 429:
            return _backoff_delay(attempt)
        if "secondary rate limit" in response.text.lower() or "abuse" in response.text.lower():
            return SECONDARY_LIMIT_WAIT
        if _says_rate_limited(response):
            # Gitee's and GitLab's header-less 403 forms: the message says it, nothing else.
            return _backoff_delay(attempt)
        return None

    def _note_quota(self, response: httpx.Response) -> None:
        headers = response.headers
        remaining = headers.get("x-ratelimit-remaining", headers.get("ratelimit-remaining"))
        if response.is_success and remaining == "0":
            reset = headers.get("x-ratelimit-reset", headers.get("ratelimit-reset"))
            wait = _epoch_wait(reset, self._now())
            if wait is not None:
                self._blocked_until = self._now() + timedelta(seconds=wait)

    def _respect_quota(self) -> None:
        if self._blocked_until is None:
            return
        wait = (self._blocked_until - self._now()).total_seconds()
        if wait > self.max_wait:
            raise RateLimitError(
                f"quota used up until {self._blocked_until.isoformat()}",
                forge=self.forge,
                retry_at=self._blocked_until,
            )
        self._blocked_until = None
        if wait > 0:
            _log.info("forge quota used up: %s waits %.1f s", self.forge, wait)
            self._sleep(wait)

    def _backoff(self, attempt: int, why: str) -> None:
        delay = _backoff_delay(attempt)
        _log.info("forge retry: %s after %s, waiting %.1f s", self.forge, why, delay)
        self._sleep(delay)

    # -- errors and logs ----------------------------------------------------------------
    def _where(self, request: httpx.Request) -> str:
        return self.redact(str(request.url))

    def _log_call(self, method: str, response: httpx.Response) -> None:
        _log.info(
            "forge call: %s %s %s -> %d",
            self.forge,
            method,
            self._where(response.request),
            response.status_code,
        )

    def _rate_limit_error(
        self, method: str, response: httpx.Response, wait: float
    ) -> RateLimitError:
        retry_at = self._now() + timedelta(seconds=wait)
        return RateLimitError(
            f"{method} {self._where(response.request)}: rate limited "
            f"(HTTP {response.status_code}), retry after {retry_at.isoformat()}",
            forge=self.forge,
            status=response.status_code,
            retry_at=retry_at,
        )

    def _status_error(
        self, method: str, response: httpx.Response, *, uncertain: bool
    ) -> ForgeError:
        status = response.status_code
        detail = self.redact(_error_detail(response))
        message = f"{method} {self._where(response.request)}: HTTP {status}: {detail}"
        if status == 401:
            message += " (token missing or refused)"
        cls = UncertainOutcomeError if uncertain and status >= 500 else ForgeError
        return cls(message, forge=self.forge, status=status)

    def _transport_error(
        self, method: str, path: str, exc: Exception, *, uncertain: bool
    ) -> ForgeError:
        url = self.redact(f"{self.api_url}{path}")
        message = f"{method} {url}: {type(exc).__name__}: {self.redact(str(exc)) or 'no answer'}"
        cls = (
            UncertainOutcomeError if uncertain and method not in IDEMPOTENT_METHODS else ForgeError
        )
        return cls(message, forge=self.forge)


def _says_rate_limited(response: httpx.Response) -> bool:
    """Whether the body (its JSON ``message`` too, which may be ``\\u``-escaped) says so."""
    text = response.text[:2000]
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        text = f"{text} {body['message'][:2000]}"
    return _RATE_LIMIT_WORDS.search(text) is not None


def _backoff_delay(attempt: int) -> float:
    return float(min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))


def _has_next_page(response: httpx.Response, page: int, count: int, size: int) -> bool:
    headers = response.headers
    if "link" in headers:
        return 'rel="next"' in headers["link"]
    if "x-next-page" in headers:
        return bool(headers["x-next-page"].strip())
    total = headers.get("total_page")
    if total is not None and total.strip().isdigit():
        return page < int(total)
    return count >= size


def _error_detail(response: httpx.Response) -> str:
    """The forge's own words: ``message`` (string, list or dict), ``error``, or the text."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text.strip()[:300] or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:300]
    parts: list[str] = []
    for key in ("message", "error"):
        value = body.get(key)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(str(v) for v in value)
        elif isinstance(value, dict):
            parts.extend(f"{k}: {v}" for k, v in value.items())
    for error in body.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            parts.append(str(error["message"]))
        elif isinstance(error, dict):
            parts.append(", ".join(f"{k}={v}" for k, v in error.items()))
    return "; ".join(parts)[:300] or response.reason_phrase
