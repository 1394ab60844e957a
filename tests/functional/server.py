"""Run the real repotrack service (uvicorn, TLS) in a thread, for tests over HTTP.

Usage::

    from tests.functional.server import running_server

    def test_something(tmp_path):
        with running_server(tmp_path) as server:            # SQLite, TLS, admin/Passw0rd~
            with server.client(auth=True) as http:          # trusts the test certificate
                answer = http.post("/tracking", json={...})
            # or from a subprocess (the CLI): --server server.host_port, and point the
            # client at server.cafile (e.g. SSL_CERT_FILE=server.cafile).

    with running_server(tmp_path, state_url=postgres_url) as server: ...
    with running_server(tmp_path, password=None) as server: ...   # no password configured
    with running_server(tmp_path, tls=False) as server: ...       # plain HTTP on 127.0.0.1
    with running_server(tmp_path, service={"require_auth_for_reads": True}) as server: ...

Keyword arguments beyond the named ones are top-level settings (``tracking={...}``,
``forges={...}``, ``service={...}`` merged with the generated account). The server
listens on a free port of 127.0.0.1 (bound before uvicorn starts, so no race), uses
a self-signed certificate made by ``repotrack.service.tls`` (CN ``self-signed``,
SAN localhost/127.0.0.1/::1), and is stopped when the block ends. The tracker's
scheduler is off unless ``scheduler=True``.
"""

from __future__ import annotations

import functools
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from repotrack.config import Listen, Settings
from repotrack.passwords import hash_password
from repotrack.service import create_app, generate_self_signed, uvicorn_config

__all__ = ["ServerHandle", "running_server", "temporary_postgres", "test_certificate", "wipe"]

_START_TIMEOUT = 30.0


@dataclass
class ServerHandle:
    """A running server: where it is, how to trust it, and how to log in."""

    base_url: str
    host_port: str
    cafile: Path | None
    user: str
    password: str | None
    settings: Settings
    app: FastAPI

    def ssl_context(self) -> ssl.SSLContext | bool:
        if self.cafile is None:
            return True
        return ssl.create_default_context(cafile=str(self.cafile))

    def client(self, *, auth: bool | tuple[str, str] | None = False, **kwargs: Any) -> httpx.Client:
        """An httpx client on ``base_url`` that trusts the server's certificate.

        ``auth=True`` logs in with the server's account, a (user, password) tuple with
        those credentials; otherwise no credentials are sent.
        """
        if isinstance(auth, tuple):
            kwargs["auth"] = auth
        elif auth and self.password is not None:
            kwargs["auth"] = (self.user, self.password)
        kwargs.setdefault("timeout", 30.0)
        return httpx.Client(base_url=self.base_url, verify=self.ssl_context(), **kwargs)


@functools.cache
def _certificate_bytes() -> tuple[bytes, bytes]:
    """One 2048-bit pair per test process (4096-bit generation is slow and adds nothing)."""
    with tempfile.TemporaryDirectory() as tmp:
        pair = generate_self_signed(Path(tmp), key_size=2048)
        return pair.certfile.read_bytes(), pair.keyfile.read_bytes()


def test_certificate(directory: Path) -> tuple[Path, Path]:
    """Write the test process's self-signed (certfile, keyfile) into ``directory``."""
    cert_pem, key_pem = _certificate_bytes()
    directory.mkdir(parents=True, exist_ok=True)
    certfile, keyfile = directory / "self-signed.crt", directory / "self-signed.key"
    certfile.write_bytes(cert_pem)
    keyfile.write_bytes(key_pem)
    keyfile.chmod(0o600)
    return certfile, keyfile


def _settings(
    tmp_path: Path,
    *,
    state_url: str | None,
    user: str,
    password: str | None,
    tls: tuple[Path, Path] | None,
    overrides: dict[str, Any],
) -> Settings:
    service: dict[str, Any] = {"user": user, "listen": "127.0.0.1:5001"}
    if password is not None:
        service["password_hash"] = hash_password(password)
    if tls is not None:
        service["certfile"], service["keyfile"] = tls
    service.update(overrides.pop("service", {}))
    overrides.setdefault("home", tmp_path / "server-home")
    if state_url is not None:
        overrides["state"] = {"url": state_url}
    return Settings(service=service, **overrides)


@contextmanager
def running_server(
    tmp_path: Path,
    *,
    state_url: str | None = None,
    user: str = "admin",
    password: str | None = "Passw0rd~",  # noqa: S107 (a test account)
    tls: bool = True,
    scheduler: bool = False,
    **settings: Any,
) -> Iterator[ServerHandle]:
    """Start the service on a free port, yield a ``ServerHandle``, stop it afterwards."""
    pair = test_certificate(tmp_path / "tls") if tls else None
    config_settings = _settings(
        tmp_path,
        state_url=state_url,
        user=user,
        password=password,
        tls=pair,
        overrides=dict(settings),
    )
    app = create_app(config_settings, scheduler=scheduler)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn_config(
        app,
        listen=Listen(host="127.0.0.1", port=port),
        certfile=pair[0] if pair else None,
        keyfile=pair[1] if pair else None,
        log_level="warning",
        access_log=False,
        configure_logging=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_started(server, thread)
        scheme = "https" if pair else "http"
        yield ServerHandle(
            base_url=f"{scheme}://127.0.0.1:{port}",
            host_port=f"127.0.0.1:{port}",
            cafile=pair[0] if pair else None,
            user=user,
            password=password,
            settings=config_settings,
            app=app,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=_START_TIMEOUT)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server stopped during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start in time")
        time.sleep(0.02)


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """A fresh PostgreSQL database for a whole test module (the ``postgres_url`` fixture
    is per test); skips, or fails under REPOTRACK_REQUIRE_SERVICES=1, when absent."""
    import uuid

    import sqlalchemy as sa

    from tests.conftest import need_service

    need_service("PostgreSQL", "127.0.0.1", 5432)
    admin = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
    )
    name = f"repotrack_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wipe(server: ServerHandle) -> None:
    """Empty the server's state tables, so tests sharing a server start clean."""
    from sqlalchemy import delete

    from repotrack.state import Issue, Run, Tracking

    with server.app.state.state_db.session() as session:
        for table in (Run, Issue, Tracking):
            session.execute(delete(table))
