"""HTTP Basic authentication against the single configured account.

The original (Flask-HTTPAuth) compared the user name and called Werkzeug's
``check_password_hash``. Here:

* the user name is compared in constant time, and the password hash is always
  verified, also for a wrong user, so timing tells nothing about which part failed;
* a malformed configured hash is logged once at start-up and on each attempt
  (never the hash itself) and denies access, as in the original;
* no configured password means every write is refused (start-up logs how to set one);
* a successful check is remembered as an HMAC of the credentials under a key made
  at start-up, so that a client does not pay the 0.5 s of a 600 000-round PBKDF2 on
  every request. Failures are never remembered, so guessing stays slow;
* the service authenticates with ``authenticate`` (async): hashing runs in a pool of
  its own (``service.login_hash_workers`` threads, one by default), never in the
  threads that serve reads, and a client address or user name that failed too often
  is refused before any hashing (``throttle.FailureThrottle``: 429 with Retry-After).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from repotrack.config import ServiceSettings
from repotrack.errors import ConfigError
from repotrack.passwords import parse_hash, verify_password
from repotrack.service.throttle import FailureThrottle

__all__ = ["AuthOutcome", "BasicAuth", "parse_basic_header"]

log = logging.getLogger(__name__)

#: How many distinct good credentials to remember (there is one account; a few suffice).
_CACHE_SIZE = 16
_HASH_HELP = "create one with `repotrack hash-password` and set service.password_hash"


def parse_basic_header(value: str | None) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic ...`` header, or None if absent or bad.

    Credentials are UTF-8 when they decode as such, else latin-1 (what ``requests``
    sends for non-ASCII characters).
    """
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        raw = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    user, sep, password = text.partition(":")
    if not sep:
        return None
    return user, password


@dataclass(frozen=True, slots=True)
class AuthOutcome:
    """What ``authenticate`` found: ``ok``, or refused with ``retry_after`` seconds (429)."""

    ok: bool
    retry_after: int | None = None


_OK = AuthOutcome(ok=True)
_DENIED = AuthOutcome(ok=False)


class BasicAuth:
    """Checks Basic credentials for one account; built once per app from the settings."""

    def __init__(
        self,
        *,
        user: str,
        password_hash: str | None,
        throttle: FailureThrottle | None = None,
        hash_workers: int = 1,
    ) -> None:
        self.user = user
        self._hash = password_hash
        self._key = secrets.token_bytes(32)
        self._good: set[bytes] = set()
        self._lock = threading.Lock()
        self.throttle = throttle or FailureThrottle(limit=10, window=60.0)
        self._pool = ThreadPoolExecutor(max_workers=hash_workers, thread_name_prefix="login")
        #: Checks under way, by credentials token (touched only on the event loop's thread).
        self._inflight: dict[bytes, asyncio.Future[bool]] = {}
        self.usable = password_hash is not None and self._hash_is_valid()

    @classmethod
    def from_settings(cls, service: ServiceSettings) -> BasicAuth:
        secret = service.resolved_password_hash()
        stored = secret.get_secret_value().strip() if secret is not None else ""
        throttle = FailureThrottle(
            limit=service.max_failed_logins, window=service.failed_login_window
        )
        workers = service.login_hash_workers
        if not stored:
            log.warning(
                "no service password is configured: every write request is refused with 401; %s",
                _HASH_HELP,
            )
            return cls(user=service.user, password_hash=None, throttle=throttle)
        return cls(user=service.user, password_hash=stored, throttle=throttle, hash_workers=workers)

    async def authenticate(self, authorization: str | None, *, client: str) -> AuthOutcome:
        """Check the header without blocking the event loop or the request threads.

        Known-good credentials answer at once; identical credentials already being
        checked share that check (fifty clients logging in at once cost one hash and
        one count); a throttled address or user is refused before hashing; otherwise
        the hash runs in the login pool, counted as a failure against both ``client``
        (the peer address) and the user name until it succeeds.
        """
        credentials = parse_basic_header(authorization)
        if credentials is None or self._hash is None:
            return _DENIED
        user, password = credentials
        if self._known(user, password):
            return _OK
        token = self._token(user, password)
        pending = self._inflight.get(token)
        if pending is not None:  # the same credentials are being checked: share that hash
            return _OK if await asyncio.shield(pending) else _DENIED
        keys = (f"addr:{client}", f"user:{user[:64]}")
        wait = self.throttle.retry_after(*keys)
        if wait is not None:
            return AuthOutcome(ok=False, retry_after=wait)
        self.throttle.failed(*keys)  # counted now, taken back on success
        future = asyncio.get_running_loop().run_in_executor(
            self._pool, self._verify, user, password
        )
        self._inflight[token] = future
        try:
            ok = await asyncio.shield(future)
        finally:
            self._inflight.pop(token, None)
        if ok:
            self.throttle.forgive(*keys)
            return _OK
        log.info("failed login", extra={"client": client})
        return _DENIED

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _hash_is_valid(self) -> bool:
        assert self._hash is not None
        try:
            parse_hash(self._hash)
        except ConfigError as exc:
            log.error(
                "the configured service password hash is malformed (%s): "
                "every write request is refused; %s",
                _reason(exc),
                _HASH_HELP,
            )
            return False
        return True

    def check(self, authorization: str | None) -> bool:
        """Whether the ``Authorization`` header carries the configured credentials.

        Synchronous and unthrottled, for callers outside the service's event loop.
        """
        credentials = parse_basic_header(authorization)
        if credentials is None or self._hash is None:
            return False
        user, password = credentials
        return self._known(user, password) or self._verify(user, password)

    def _token(self, user: str, password: str) -> bytes:
        text = f"{user}\0{password}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, text, hashlib.sha256).digest()

    def _known(self, user: str, password: str) -> bool:
        token = self._token(user, password)
        with self._lock:
            return token in self._good

    def _verify(self, user: str, password: str) -> bool:
        """The full check (constant-time user compare and the password hash); remembers success."""
        assert self._hash is not None
        token = self._token(user, password)
        user_ok = hmac.compare_digest(user.encode("utf-8", "surrogatepass"), self.user.encode())
        try:
            password_ok = verify_password(self._hash, password)
        except ConfigError as exc:
            log.error("service password hash is malformed (%s); access denied", _reason(exc))
            return False
        if not (user_ok and password_ok):
            return False
        with self._lock:
            if len(self._good) >= _CACHE_SIZE:
                self._good.clear()
            self._good.add(token)
        return True


def _reason(exc: ConfigError) -> str:
    """The error text without its ``key:`` prefix; it never contains the hash."""
    text = str(exc)
    prefix = f"{exc.key}: " if exc.key else ""
    return text.removeprefix(prefix)
