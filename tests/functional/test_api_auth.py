"""Service-level auth and transport set-ups: no password, malformed hash, auth on reads,
plain HTTP on loopback, and TLS verified against the gen-cert certificate."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import httpx
import pytest

from tests.functional.server import running_server

ITEM = {
    "version_control": "github",
    "scm_repo": "madler/zlib",
    "scm_branch": "develop",
    "scm_commit": None,
    "repo": "https://gitee.com/src-openeuler/zlib",
    "branch": "master",
    "enabled": True,
}


def test_no_password_refuses_writes_and_says_how(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="repotrack.service"):
        server_cm = running_server(tmp_path, password=None)
        server = server_cm.__enter__()
    try:
        assert "repotrack hash-password" in caplog.text
        with server.client(auth=("admin", "Passw0rd~")) as http:
            answer = http.post("/tracking", json=ITEM)
            assert answer.status_code == 401
            assert answer.text == "Unauthorized Access"
            assert http.post("/api/v1/items", json=ITEM).status_code == 401
            assert http.get("/tracking").json()["data"] == []
    finally:
        server_cm.__exit__(None, None, None)


@pytest.mark.parametrize(
    "bad_hash",
    ["plaintext-password", "md5$salt$abcd", "pbkdf2:sha256:x$salt$abcd", "pbkdf2:sha256:1$s$zz"],
)
def test_malformed_hash_is_logged_without_the_hash_and_denies(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, bad_hash: str
) -> None:
    with (
        caplog.at_level(logging.INFO, logger="repotrack"),
        running_server(tmp_path, service={"password_hash": bad_hash}) as server,
        server.client(auth=True) as http,
    ):
        answer = http.post("/tracking", json=ITEM)
        assert answer.status_code == 401
        assert answer.text == "Unauthorized Access"
        assert http.get("/tracking").json()["data"] == []
    assert "malformed" in caplog.text
    assert bad_hash not in caplog.text


def test_require_auth_for_reads(tmp_path: Path) -> None:
    with running_server(tmp_path, service={"require_auth_for_reads": True}) as server:
        with server.client() as anonymous:
            for path in ("/tracking", "/issue", "/api/v1/items", "/api/v1/issues"):
                answer = anonymous.get(path)
                assert answer.status_code == 401, path
            assert anonymous.get("/tracking").text == "Unauthorized Access"
            assert anonymous.get("/healthz").status_code == 200
        with server.client(auth=True) as http:
            assert http.get("/tracking").json()["code"] == "2001"
            assert http.get("/api/v1/items").json()["total"] == 0


def test_tls_is_verified_against_the_generated_certificate(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        assert server.base_url.startswith("https://")
        assert server.cafile is not None
        untrusting = ssl.create_default_context()
        with (
            httpx.Client(base_url=server.base_url, verify=untrusting) as http,
            pytest.raises(httpx.ConnectError),
        ):
            http.get("/tracking")
        with server.client() as http:
            assert http.get("/tracking").status_code == 200
        plain = server.base_url.replace("https://", "http://")
        with httpx.Client(base_url=plain) as http, pytest.raises(httpx.HTTPError):
            http.get("/tracking")


def test_plain_http_on_loopback(tmp_path: Path) -> None:
    with running_server(tmp_path, tls=False) as server, server.client(auth=True) as http:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert http.post("/tracking", json=ITEM).json()["code"] == "2001"
