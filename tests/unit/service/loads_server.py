"""A real service for the ``/api/v1/loads`` tests of one job kind: a fresh store, loads
confined to one allowed root, a logged-in client, and waiting for a job to end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from repotrack.passwords import hash_password
from tests.functional.server import running_server
from tests.unit.store.storeutil import fresh_store_url

AUTH = ("admin", "Passw0rd~")
FAST = {"password_hash": hash_password(AUTH[1], iterations=1000)}


def serve_loads(
    tmp_path_factory: pytest.TempPathFactory, name: str, allowed_root: Path
) -> Iterator[httpx.Client]:
    """A logged-in client of a running service whose loads may read ``allowed_root``."""
    tmp_path = tmp_path_factory.mktemp(name)
    fresh_store_url(tmp_path_factory, tmp_path / "server-home" / "store")
    allowed = {"allowed_roots": [str(allowed_root)]}
    with (
        running_server(tmp_path, tls=False, password=AUTH[1], service=FAST, loads=allowed) as h,
        h.client(auth=AUTH) as http,
    ):
        yield http


def wait(client: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    """The job's record once it left ``queued``/``running`` (or after two minutes)."""
    deadline = time.monotonic() + 120
    while job["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        job = client.get(f"/api/v1/loads/{job['id']}").json()
    return job
