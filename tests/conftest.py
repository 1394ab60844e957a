"""Fixtures every test shares: a clean environment, a private home, and real services.

Tests that need PostgreSQL or RabbitMQ take the ``postgres_url`` / ``amqp_url``
fixtures. They skip with a visible reason when the server is not reachable, unless
``REPOTRACK_REQUIRE_SERVICES=1`` (set by CI), where an absent service is a failure.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.ingest.file_ids import forget_all as forget_files

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures"
DATA = Path(__file__).resolve().parent / "data"

_SCRUBBED_PREFIXES = ("REPOTRACK_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
_SCRUBBED = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"}


def services_required() -> bool:
    return os.environ.get("REPOTRACK_REQUIRE_SERVICES") == "1"


# Read before the autouse fixture scrubs REPOTRACK_* from the environment.
_REQUIRE_SERVICES = services_required()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No REPOTRACK_* or proxy variable leaks in; every test gets its own home and cwd."""
    for key in list(os.environ):
        if key.startswith(_SCRUBBED_PREFIXES) or key in _SCRUBBED:
            monkeypatch.delenv(key, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("REPOTRACK_HOME", str(home))
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    forget_files()  # what an earlier test's loads identified is not this test's
    yield


def need_service(name: str, host: str, port: int) -> None:
    """Skip (or fail, under REPOTRACK_REQUIRE_SERVICES=1) when host:port does not answer."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        message = f"{name} not reachable on {host}:{port} ({exc})"
        if _REQUIRE_SERVICES:
            pytest.fail(f"{message}; REPOTRACK_REQUIRE_SERVICES=1 requires it")
        pytest.skip(message)


def need_tool(tool: str) -> str:
    """The path of an outside tool, or a skip naming it (a failure when services are required)."""
    import shutil

    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed"
        if _REQUIRE_SERVICES:
            pytest.fail(f"{message}; .ci/run installs it")
        pytest.skip(message)
    return path


def need_librpm_python() -> Path:
    """The system Python with librpm's binding (Debian's python3-rpm), or a skip/failure."""
    import subprocess

    python = Path("/usr/bin/python3")
    if python.exists():
        probe = subprocess.run([str(python), "-c", "import rpm"], capture_output=True, check=False)
        if probe.returncode == 0:
            return python
    message = "python3-rpm (librpm's Python binding) is not installed"
    if _REQUIRE_SERVICES:
        pytest.fail(f"{message}; .ci/run installs it")
    pytest.skip(message)


def need_fixtures(*parts: str) -> Path:
    """A path under ../shared/fixtures, or a skip when that folder is absent."""
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"third-party fixture {path} is absent")
    return path


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on 127.0.0.1:5432, dropped afterwards."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    import sqlalchemy as sa

    admin_url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    name = f"repotrack_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def amqp_url() -> str:
    need_service("RabbitMQ", "127.0.0.1", 5672)
    return "amqp://guest:guest@127.0.0.1:5672/"
