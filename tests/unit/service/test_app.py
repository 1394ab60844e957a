"""The app factory: routers, app.state, the legacy settings.conf path of ``patch-tracking``."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from repotrack.cli.serve import _legacy_settings
from repotrack.config import Settings
from repotrack.service import create_app
from repotrack.service.routes import ROUTERS


def test_routers_include_ours() -> None:
    assert {"compat", "items", "issues", "health"} <= set(ROUTERS)


def test_app_state_and_routes(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    app = create_app(settings, scheduler=False)
    assert app.state.settings is settings
    assert app.state.state_db.url == settings.state_url
    paths = set(app.openapi()["paths"])
    assert {"/tracking", "/issue", "/api/v1/items", "/api/v1/issues", "/healthz"} <= paths
    assert "/" not in paths
    app.state.state_db.close()


def test_legacy_settings_conf_is_read_with_its_certificate(tmp_path: Path) -> None:
    conf = tmp_path / "settings.conf"
    conf.write_text(
        'LISTEN = "127.0.0.1:5002"\nGITHUB_ACCESS_TOKEN = ""\nGITEE_ACCESS_TOKEN = "tok"\n'
        'SCAN_DB_INTERVAL = 600\nUSER = "hello"\n'
        'PASSWORD = "pbkdf2:sha256:150000$abcdefgh$00"\n'
    )
    (tmp_path / "self-signed.crt").write_text("c")
    (tmp_path / "self-signed.key").write_text("k")
    settings, cert, key = _legacy_settings(conf)
    assert settings.service.listen == "127.0.0.1:5002"
    assert settings.service.user == "hello"
    assert settings.tracking.scan_interval == 600
    assert (cert, key) == (tmp_path / "self-signed.crt", tmp_path / "self-signed.key")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/api/v1/items", "GET, POST"),
        ("OPTIONS", "/api/v1/items/1", "DELETE, GET, PATCH"),
        ("OPTIONS", "/api/v1/vulns/mappings", "GET, POST"),
        ("PUT", "/tracking", "DELETE, GET, POST"),
        ("POST", "/issue", "GET"),
    ],
)
def test_method_not_allowed_lists_every_method_of_the_path(
    tmp_path: Path, method: str, path: str, allowed: str
) -> None:
    """RFC 9110 §15.5.6: a 405 names all the methods the target supports. The router
    answered with the methods of the first route of the path alone (``Allow: GET`` for
    ``/api/v1/items``, which takes POST too), so a client could not learn them."""
    app = create_app(Settings(home=tmp_path), scheduler=False)
    try:
        answer = asyncio.run(_request(app, method, path))
        assert answer.status_code == 405
        assert answer.headers["allow"] == allowed
        assert answer.json() == {"detail": "Method Not Allowed"}
    finally:
        app.state.state_db.close()


async def _request(
    app: FastAPI, method: str, path: str, content: bytes | None = None
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, content=content)


def test_patch_schema_lets_only_scm_commit_be_null(tmp_path: Path) -> None:
    """A null for any other field is refused with 422 (tests/functional/test_api_v1.py);
    the schema said each might be null, so clients built from it sent them."""
    app = create_app(Settings(home=tmp_path), scheduler=False)
    try:
        properties = app.openapi()["components"]["schemas"]["ItemPatch"]["properties"]
        nullable = {
            name for name, prop in properties.items() if {"type": "null"} in prop.get("anyOf", [])
        }
        assert nullable == {"scm_commit"}
        assert properties["branch"] == {
            "maxLength": 255, "minLength": 1, "title": "Branch", "type": "string"
        }  # fmt: skip
    finally:
        app.state.state_db.close()


def test_status_filters_are_in_the_schema(tmp_path: Path) -> None:
    """The verdict queries take one of the statuses (else 422); the schema now says which,
    where it had said "any string of 20 characters"."""
    app = create_app(Settings(home=tmp_path), scheduler=False)
    try:
        paths = app.openapi()["paths"]
        for path in (
            "/api/v1/vulns/branch",
            "/api/v1/vulns/package",
            "/api/v1/vulns/cve/{vuln_id}",
        ):
            (status,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == "status"]
            pattern = re.compile(status["schema"]["pattern"])
            assert all(pattern.search(s) for s in ("", "vulnerable", "not_affected", "unknown"))
            assert not any(pattern.search(s) for s in ("open", "fixed ", "Vulnerable"))
    finally:
        app.state.state_db.close()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("PUT", "/api/v1/daemon", 405),
        ("PUT", "/api/v1/items/1", 405),
        ("POST", "/api/v1/no-such-thing", 401),  # a path the schema does not name
        ("POST", "/api/v1/items", 401),
        ("PATCH", "/api/v1/items/1", 401),
    ],
)
def test_anonymous_body_to_a_method_no_route_takes(
    tmp_path: Path, method: str, path: str, status: int
) -> None:
    """A request with a body must log in before the body is read (body_limits), but not
    with a method the path's routes do not take: that is the router's 405, the body
    unread all the same. A 401 there said that a password would make ``PUT
    /api/v1/daemon`` work."""
    app = create_app(Settings(home=tmp_path), scheduler=False)
    try:
        answer = asyncio.run(_request(app, method, path, content=b"{}"))
        assert answer.status_code == status
    finally:
        app.state.state_db.close()
