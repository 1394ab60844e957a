"""``repotrack load repo --via-service``: the job goes to a real service over TLS.

The service runs under uvicorn in a thread (``running_server``) with its own chDB
store; the CLI is invoked in-process with ``CliRunner``. What happens when a load meets
a locked store is in ``test_load_locked.py``.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repotrack.cli.load_remote import service_url
from repotrack.cli.main import app
from repotrack.config import Settings
from repotrack.passwords import hash_password
from tests.conftest import DATA
from tests.functional.server import ServerHandle, running_server
from tests.unit.store.storeutil import fresh_store_url

PASSWORD = "Passw0rd~"
FAST = {"password_hash": hash_password(PASSWORD, iterations=1000)}
SUMMARY = re.compile(r"^p10 2024-05-01: 8 packages \((\d+) new, (\d+) known\), \d+ file rows")
HANDED = re.compile(r"^handed the load to the repotrack service at (\S+): job ([0-9a-f-]{36})$")


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "400", **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def load_args(path: Path | str = DATA / "rpms", *extra: str) -> list[str]:
    return ["load", "repo", "p10", str(path), "--date", "2024-05-01", "-w", "1", *extra]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """One TLS service with its own store for this module (tests go in file order)."""
    tmp_path = tmp_path_factory.mktemp("service")
    fresh_store_url(tmp_path_factory, tmp_path / "server-home" / "store")
    roots = [str(DATA), str(tmp_path_factory.getbasetemp())]
    with running_server(
        tmp_path, password=PASSWORD, service=FAST, loads={"allowed_roots": roots}
    ) as handle:
        yield handle


def via(server: ServerHandle, *extra: str) -> list[str]:
    assert server.cafile is not None
    return ["--via-service", "--server", server.base_url, "--cacert", str(server.cafile), *extra]


def test_via_service_loads_and_prints_the_summary(server: ServerHandle) -> None:
    code, out, err = cli(*load_args(), *via(server, "--password", PASSWORD))
    assert code == 0, err
    match = SUMMARY.match(out)
    assert match and match.groups() == ("8", "0"), out
    handed = HANDED.match(err.strip().splitlines()[0])
    assert handed and handed.group(1) == server.base_url, err
    with server.client(auth=True) as http:  # parameters are shown to the account only
        job = http.get(f"/api/v1/loads/{handed.group(2)}").json()
        assert job["state"] == "done"
        assert job["params"]["path"] == str((DATA / "rpms").resolve())
        assert http.get("/api/v1/packages", params={"branch": "p10"}).json()["total"] == 8


def test_a_failed_job_fails_like_a_local_load(server: ServerHandle) -> None:
    code, out, err = cli(*load_args(), *via(server), env={"REPOTRACK_PASSWORD": PASSWORD})
    assert code == 1 and out == ""
    assert err.strip().splitlines()[-1] == (
        "ConflictError: p10 2024-05-01 is already loaded (use --force to load it again)"
    )


def test_the_path_is_made_absolute_and_checked_by_the_service(
    server: ServerHandle, tmp_path: Path
) -> None:
    os.chdir(tmp_path)
    code, _, err = cli(*load_args("missing"), *via(server, "--password", PASSWORD))
    assert code == 2
    assert err.strip() == (
        "InputError: the service refused the load: path: no such directory on the "
        f"service's machine: {tmp_path / 'missing'}"
    )


def test_wrong_or_missing_credentials(server: ServerHandle) -> None:
    code, _, err = cli(*load_args(), *via(server, "--password", "Wr0ng-pass"))
    assert code == 1
    assert err.strip().startswith(f"AuthError: {server.base_url}: the service refused the account")
    assert "Wr0ng-pass" not in err
    code, _, err = cli(*load_args(), *via(server))  # no password and no terminal to ask on
    assert code == 2
    assert err.strip().startswith("InputError: --password: a password is required")


def test_service_not_reachable_is_one_line() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        server = f"http://127.0.0.1:{port}"
        env = {"REPOTRACK_PASSWORD": PASSWORD}
        code, _, err = cli(*load_args(), "--via-service", "--server", server, env=env)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"UpstreamError: http://127.0.0.1:{port}: cannot reach the repotrack service:"
    )


@pytest.mark.parametrize(
    ("service", "url"),
    [
        ({}, "http://127.0.0.1:5001"),
        ({"listen": "0.0.0.0:5002"}, "http://127.0.0.1:5002"),
        ({"listen": "[::]:5003"}, "http://[::1]:5003"),
        ({"listen": "[::1]:5004", "certfile": "/c.pem", "keyfile": "/k.pem"}, "https://[::1]:5004"),
        ({"listen": "tracker.example:443", "certfile": "/c.pem"}, "http://tracker.example:443"),
    ],
)
def test_service_url_follows_the_settings(service: dict[str, str], url: str) -> None:
    assert service_url(Settings(service=service)) == url
