"""The tracking client's pure parts: server URLs and TLS settings."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from repotrack.cli.tracking_client import TrackingClient, server_base_url, tls_verify
from repotrack.errors import InputError


@pytest.mark.parametrize(
    ("server", "url"),
    [
        ("127.0.0.1:5001", "https://127.0.0.1:5001"),
        ("tracking.example.org:443", "https://tracking.example.org:443"),
        ("https://tracking.example.org/", "https://tracking.example.org"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("[::1]:5001", "https://[::1]:5001"),
    ],
)
def test_server_urls(server: str, url: str) -> None:
    assert server_base_url(server) == url


@pytest.mark.parametrize(
    "server", ["", "ftp://h:1", "h:99999", "https://u:p@h:1", "https://h:1/?x=1", ":5001"]
)
def test_bad_server_values(server: str) -> None:
    with pytest.raises(InputError, match="--server"):
        server_base_url(server)


def test_tls_choices(tmp_path: Path) -> None:
    assert tls_verify(cacert=None, insecure=True) is False
    assert isinstance(tls_verify(cacert=None, insecure=False), ssl.SSLContext)
    with pytest.raises(InputError, match="exclude each other"):
        tls_verify(cacert=tmp_path / "ca.pem", insecure=True)
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    with pytest.raises(InputError, match="cannot load CA certificates"):
        tls_verify(cacert=tmp_path / "ca.pem", insecure=False)


def test_plain_http_loads_no_certificates() -> None:
    """A plain-HTTP service needs no CA store (loading it is 36-46 ms of CPU at every
    command's start); the context given instead trusts nothing, so that TLS it were
    led to fails instead of going unchecked."""
    plain = tls_verify(cacert=None, insecure=False, url="http://127.0.0.1:8080")
    assert isinstance(plain, ssl.SSLContext)
    assert plain.verify_mode == ssl.CERT_REQUIRED and plain.check_hostname
    assert plain.cert_store_stats()["x509_ca"] == 0
    secure = tls_verify(cacert=None, insecure=False, url="https://127.0.0.1:8443")
    assert isinstance(secure, ssl.SSLContext) and secure is not plain
    assert secure.verify_mode == ssl.CERT_REQUIRED
    assert tls_verify(cacert=None, insecure=True, url="http://127.0.0.1:8080") is False


def test_unknown_table_is_refused() -> None:
    with TrackingClient("https://127.0.0.1:9") as client, pytest.raises(InputError):
        client.query("users")
