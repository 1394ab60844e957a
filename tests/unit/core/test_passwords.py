"""Werkzeug-compatible hashes and the original's strength rules."""

from __future__ import annotations

import hashlib

import pytest

from repotrack.errors import ConfigError
from repotrack.passwords import check_strength, hash_password, verify_password


def _werkzeug_pbkdf2(password: str, salt: str, iterations: int) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2:sha256:{iterations}${salt}${digest.hex()}"


@pytest.mark.parametrize("iterations", [1000, 150000])
def test_pbkdf2_any_iteration_count(iterations: int) -> None:
    stored = _werkzeug_pbkdf2("Passw0rd~", "AbCdEfGh", iterations)
    assert verify_password(stored, "Passw0rd~")
    assert not verify_password(stored, "Passw0rd!")


def test_scrypt_hash() -> None:
    salt = "saltsaltsalt"
    digest = hashlib.scrypt(b"pw", salt=salt.encode(), n=1024, r=8, p=1, dklen=64)
    assert verify_password(f"scrypt:1024:8:1${salt}${digest.hex()}", "pw")
    assert not verify_password(f"scrypt:1024:8:1${salt}${digest.hex()}", "px")


def test_roundtrip() -> None:
    stored = hash_password("Hello~123", iterations=1000)
    assert stored.startswith("pbkdf2:sha256:1000$")
    assert verify_password(stored, "Hello~123")


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-text-password",
        "pbkdf2:sha256:150000$salt",
        "pbkdf2:sha256:lots$salt$00",
        "pbkdf2:md4:1000$salt$00",
        "md5$salt$00",
        "pbkdf2:sha256:1000$salt$zz",
        "scrypt:3:8:1$salt$00",
        "pbkdf2:sha256:999999999999$salt$00",
    ],
)
def test_malformed_hash_is_config_error(stored: str) -> None:
    with pytest.raises(ConfigError):
        verify_password(stored, "x")


@pytest.mark.parametrize(
    ("password", "failed"),
    [
        ("Abc12~", []),
        ("abc", ["length", "digit", "uppercase", "symbol"]),
        ("ABCDEFG1~", ["lowercase"]),
        ("Abcdefg1$", ["symbol"]),
        ("Abcdefg1&?.", ["symbol"]),
        ("A" * 20 + "a" * 12 + "1~", ["length"]),
    ],
)
def test_strength_rules(password: str, failed: list[str]) -> None:
    assert check_strength(password) == failed
