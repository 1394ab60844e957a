"""Password hashes compatible with the original service's Werkzeug hashes.

The original stored ``generate_password_hash(password)`` output in ``PASSWORD``:
``pbkdf2:sha256:<iterations>$<salt>$<hex digest>`` (150000 iterations with Werkzeug
1.0.1, 600000 later) or ``scrypt:<n>:<r>:<p>$<salt>$<hex digest>``. Both verify
here, with the iteration count taken from the hash, and compare in constant time.
New hashes use pbkdf2-sha256 with 600000 iterations.

The strength rules and their criterion names are those of the original
``generate_password`` (reference §4.4).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from repotrack.errors import ConfigError

__all__ = [
    "SYMBOLS",
    "check_strength",
    "hash_password",
    "parse_hash",
    "verify_password",
]

#: The only characters that count as "special" for the strength rules.
SYMBOLS = "~!@#%^*_+=-"
DEFAULT_ITERATIONS = 600_000
_SALT_CHARS = string.ascii_letters + string.digits
_MAX_ITERATIONS = 10_000_000


def check_strength(password: str) -> list[str]:
    """The criteria ``password`` fails, in the original's order (empty list: strong enough)."""
    failed = []
    if not 6 <= len(password) <= 32:
        failed.append("length")
    if not any(c in string.digits for c in password):
        failed.append("digit")
    if not any(c in string.ascii_uppercase for c in password):
        failed.append("uppercase")
    if not any(c in string.ascii_lowercase for c in password):
        failed.append("lowercase")
    if not any(c in SYMBOLS for c in password):
        failed.append("symbol")
    return failed


def hash_password(password: str, *, iterations: int = DEFAULT_ITERATIONS) -> str:
    """A ``pbkdf2:sha256:<iterations>$<salt>$<hex>`` hash of ``password``."""
    salt = "".join(secrets.choice(_SALT_CHARS) for _ in range(16))
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2:sha256:{iterations}${salt}${digest.hex()}"


def parse_hash(stored: str) -> tuple[str, str, str]:
    """Split a stored hash into (method, salt, hex digest); a malformed one is a ConfigError."""
    parts = stored.split("$")
    if len(parts) != 3 or not all(parts):
        raise ConfigError("password hash must look like method$salt$digest", key="password_hash")
    method, salt, digest = parts
    _derive(method, "", salt)  # validates the method and its parameters
    try:
        bytes.fromhex(digest)
    except ValueError as exc:
        raise ConfigError("password hash digest is not hex", key="password_hash") from exc
    return method, salt, digest


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored``; raises ConfigError if ``stored`` is malformed."""
    method, salt, digest = parse_hash(stored)
    computed = _derive(method, password, salt)
    return hmac.compare_digest(computed.hex(), digest.lower())


def _derive(method: str, password: str, salt: str) -> bytes:
    fields = method.split(":")
    if fields[0] == "pbkdf2":
        hash_name = fields[1] if len(fields) > 1 else "sha256"
        iterations = _int_param(fields[2], "iterations") if len(fields) > 2 else 600_000
        if hash_name not in {"sha256", "sha512", "sha1"}:
            raise ConfigError(f"unsupported pbkdf2 hash {hash_name!r}", key="password_hash")
        if not 1 <= iterations <= _MAX_ITERATIONS:
            raise ConfigError("pbkdf2 iteration count out of range", key="password_hash")
        return hashlib.pbkdf2_hmac(hash_name, password.encode(), salt.encode(), iterations)
    if fields[0] == "scrypt":
        n, r, p = (
            (32768, 8, 1) if len(fields) == 1 else (_int_param(f, "scrypt") for f in fields[1:4])
        )
        if len(fields) not in (1, 4) or n < 2 or n & (n - 1) or not (1 <= r <= 64 and 1 <= p <= 16):
            raise ConfigError("bad scrypt parameters", key="password_hash")
        maxmem = 132 * n * r * p
        return hashlib.scrypt(
            password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=maxmem, dklen=64
        )
    raise ConfigError(f"unsupported password hash method {fields[0]!r}", key="password_hash")


def _int_param(text: str, name: str) -> int:
    if not text.isdigit():
        raise ConfigError(f"bad {name} parameter {text!r}", key="password_hash")
    return int(text)
