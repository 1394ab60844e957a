"""Basic auth: header parsing, the configured account, malformed hashes, the success cache."""

from __future__ import annotations

import base64
import logging

import pytest

from repotrack.config import ServiceSettings
from repotrack.passwords import hash_password
from repotrack.service.auth import BasicAuth, parse_basic_header

HASH = hash_password("Passw0rd~", iterations=1000)


def basic(user: str, password: str, encoding: str = "utf-8") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode(encoding)).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (basic("admin", "a:b"), ("admin", "a:b")),
        (basic("admin", "pässwörd", "latin-1"), ("admin", "pässwörd")),
        (basic("admin", "pässwörd"), ("admin", "pässwörd")),
        (None, None),
        ("", None),
        ("Bearer x", None),
        ("Basic", None),
        ("Basic %%%", None),
        ("Basic " + base64.b64encode(b"nocolon").decode(), None),
    ],
)
def test_parse_basic_header(header: str | None, expected: tuple[str, str] | None) -> None:
    assert parse_basic_header(header) == expected


def test_check_good_and_bad_credentials() -> None:
    auth = BasicAuth(user="admin", password_hash=HASH)
    assert auth.usable
    assert auth.check(basic("admin", "Passw0rd~"))
    assert auth.check(basic("admin", "Passw0rd~"))  # from the cache
    assert not auth.check(basic("admin", "passw0rd~"))
    assert not auth.check(basic("Admin", "Passw0rd~"))
    assert not auth.check(None)


def test_werkzeug_1_0_hash_verifies() -> None:
    # pbkdf2:sha256:150000 as Werkzeug 1.0.1's generate_password_hash wrote it.
    stored = hash_password("world", iterations=150000).replace("$", "$", 1)
    assert BasicAuth(user="hello", password_hash=stored).check(basic("hello", "world"))


def test_no_password_denies_and_logs_how_to_set_one(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        auth = BasicAuth.from_settings(ServiceSettings())
    assert not auth.usable
    assert not auth.check(basic("admin", ""))
    assert "repotrack hash-password" in caplog.text


@pytest.mark.parametrize("stored", ["nothing", "sha1$$", "pbkdf2:sha256:0$s$00", "bogus$s$00"])
def test_malformed_hash_denies_and_is_not_logged(
    caplog: pytest.LogCaptureFixture, stored: str
) -> None:
    with caplog.at_level(logging.INFO):
        auth = BasicAuth.from_settings(ServiceSettings(password_hash=stored))
        assert not auth.usable
        assert not auth.check(basic("admin", "Passw0rd~"))
    assert "malformed" in caplog.text
    assert stored not in caplog.text
