"""A load while ``repotrack serve`` runs: real processes, TLS, the service's own chDB store.

``repotrack serve`` runs as a subprocess on a free port with a private
``REPOTRACK_HOME``, a self-signed certificate and an account; ``repotrack load repo``
and ``repo_loader`` then run as subprocesses with the same settings plus the account's
password in the environment. The store is the service's, so they must hand their job
over; the packages then show up through ``/api/v1/packages``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from repotrack.passwords import hash_password
from tests.conftest import DATA
from tests.functional.server import test_certificate as make_certificate
from tests.unit.store.storeutil import fresh_store_url

BIN = Path(sys.executable).parent
PASSWORD = "Passw0rd~"
SUMMARY = re.compile(r"^p10 2024-05-01: 8 packages \((\d+) new, (\d+) known\), \d+ file rows")
HANDED = re.compile(r"handed the load to the repotrack service at (\S+): job ([0-9a-f-]{36})")
_START_TIMEOUT = 60.0


@dataclass
class Service:
    base_url: str
    cafile: Path
    env: dict[str, str]

    def client(self) -> httpx.Client:
        trust = ssl.create_default_context(cafile=str(self.cafile))
        return httpx.Client(base_url=self.base_url, verify=trust, timeout=30.0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """``repotrack serve`` over TLS, holding its (migrated) store; stopped with SIGINT."""
    tmp_path = tmp_path_factory.mktemp("serve")
    home = tmp_path / "home"
    fresh_store_url(tmp_path_factory, home / "store")
    certfile, keyfile = make_certificate(tmp_path / "tls")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env.update(
        REPOTRACK_HOME=str(home),
        REPOTRACK_SERVICE__LISTEN=f"127.0.0.1:{port}",
        REPOTRACK_SERVICE__CERTFILE=str(certfile),
        REPOTRACK_SERVICE__KEYFILE=str(keyfile),
        REPOTRACK_SERVICE__PASSWORD_HASH=hash_password(PASSWORD, iterations=1000),
        REPOTRACK_LOADS__ALLOWED_ROOTS=json.dumps([str(DATA), str(tmp_path_factory.getbasetemp())]),
        COLUMNS="400",
    )
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "repotrack"), "serve", "--no-tracker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    running = Service(f"https://127.0.0.1:{port}", certfile, env)
    try:
        _wait_ready(running, proc, tmp_path / "serve.log")
        with running.client() as http:  # the service opens (and from now on holds) its store
            assert http.get("/api/v1/packages", params={"branch": "p10"}).status_code == 404
        yield running
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_ready(service: Service, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    with service.client() as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"repotrack serve exited:\n{log.read_text()}")
            try:
                if http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"repotrack serve did not start:\n{log.read_text()}")


def run(
    service: Service, *args: str, password: str | None = PASSWORD
) -> subprocess.CompletedProcess[str]:
    env = dict(service.env)
    if password is not None:
        env["REPOTRACK_PASSWORD"] = password
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_load_is_handed_to_the_running_service(service: Service, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.symlink_to(DATA / "rpms")  # the service gets the absolute path the CLI resolved
    result = run(
        service, "repotrack", "load", "repo", "p10", str(tree), "--date", "2024-05-01", "-w", "2"
    )
    assert result.returncode == 0, result.stderr
    match = SUMMARY.match(result.stdout)
    assert match and match.groups() == ("8", "0"), result.stdout
    handed = HANDED.search(result.stderr)
    assert handed and handed.group(1) == service.base_url, result.stderr

    with service.client() as http:
        http.auth = ("admin", PASSWORD)  # parameters are shown to the account only
        job = http.get(f"/api/v1/loads/{handed.group(2)}").json()
        assert job["state"] == "done"
        assert job["params"]["path"] == str((DATA / "rpms").resolve())
        assert job["params"]["workers"] == 2
        packages = http.get("/api/v1/packages", params={"branch": "p10", "date": "2024-05-01"})
        assert packages.status_code == 200
        body = packages.json()
        assert body["total"] == 8
        assert {p["name"] for p in body["packages"]} >= {"rt-hello", "rt-tilde", "rt-bz"}

    again = run(service, "repotrack", "load", "repo", "p10", str(tree), "--date", "2024-05-01")
    assert again.returncode == 1
    assert again.stderr.strip().splitlines()[-1] == (
        "ConflictError: p10 2024-05-01 is already loaded (use --force to load it again)"
    )


def test_repo_loader_hands_over_too_and_without_a_password_says_how(service: Service) -> None:
    path = str(DATA / "rpms")
    refused = run(service, "repo_loader", "p10", path, "-A", "2024-05-02", password=None)
    assert refused.returncode == 1
    line = refused.stderr.strip().splitlines()[-1]
    assert line.startswith("StoreError: chDB store ") and "is locked by another process" in line
    assert "set REPOTRACK_PASSWORD" in line

    forced = run(service, "repo_loader", "p10", path, "-A", "2024-05-01", "-F", "-w", "1")
    assert forced.returncode == 0, forced.stderr
    match = SUMMARY.match(forced.stdout)
    assert match and sum(int(n) for n in match.groups()) == 8, forced.stdout
    assert HANDED.search(forced.stderr), forced.stderr
