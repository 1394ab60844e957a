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
  every request. Failures are never remembered, so guessing stays slow.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import threading

from repotrack.config import ServiceSettings
from repotrack.errors import ConfigError
from repotrack.passwords import parse_hash, verify_password

__all__ = ["BasicAuth", "parse_basic_header"]

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


class BasicAuth:
    """Checks Basic credentials for one account; built once per app from the settings."""

    def __init__(self, *, user: str, password_hash: str | None) -> None:
        self.user = user
        self._hash = password_hash
        self._key = secrets.token_bytes(32)
        self._good: set[bytes] = set()
        self._lock = threading.Lock()
        self.usable = password_hash is not None and self._hash_is_valid()

    @classmethod
    def from_settings(cls, service: ServiceSettings) -> BasicAuth:
        secret = service.resolved_password_hash()
        stored = secret.get_secret_value().strip() if secret is not None else ""
        if not stored:
            log.warning(
                "no service password is configured: every write request is refused with 401; %s",
                _HASH_HELP,
            )
            return cls(user=service.user, password_hash=None)
        return cls(user=service.user, password_hash=stored)

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
        """Whether the ``Authorization`` header carries the configured credentials."""
        credentials = parse_basic_header(authorization)
        if credentials is None or self._hash is None:
            return False
        user, password = credentials
        token = hmac.new(self._key, f"{user}\0{password}".encode(), hashlib.sha256).digest()
        with self._lock:
            if token in self._good:
                return True
        user_ok = hmac.compare_digest(user.encode(), self.user.encode())
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
