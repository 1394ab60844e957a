"""A load that meets a store held by another process (the service): hand over, or say how.

A store "held by another process" is a ``status`` file under an ``flock`` this test
holds, which is exactly what chDB's own lock looks like to the store layer; so no
second process (and no chDB) is needed. Kept apart from ``test_load_handoff.py``,
whose server holds a chDB store in this process (chDB allows one per process).
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repotrack.cli.main import app
from tests.conftest import DATA

PASSWORD = "Passw0rd~"


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "400", **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def load_args(*extra: str) -> list[str]:
    return ["load", "repo", "p10", str(DATA / "rpms"), "--date", "2024-05-01", "-w", "1", *extra]


@pytest.fixture
def locked_store() -> Iterator[Path]:
    """The default store directory with its ``status`` file locked, as chDB's owner holds it."""
    store = Path(os.environ["REPOTRACK_HOME"]) / "store"
    store.mkdir(parents=True)
    status = store / "status"
    status.write_text("PID: 4242\n")
    with status.open("rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield store


def test_locked_store_without_a_password_says_how_to_hand_over(locked_store: Path) -> None:
    code, out, err = cli(*load_args())
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"StoreError: chDB store {locked_store} is locked by another process (pid 4242)"
    )
    assert lines[0].endswith("or pass --via-service")
    assert "REPOTRACK_PASSWORD" in lines[0]


def test_locked_store_and_no_service_says_so_in_one_line(locked_store: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        env = {"REPOTRACK_PASSWORD": PASSWORD, "REPOTRACK_SERVICE__LISTEN": f"127.0.0.1:{port}"}
        code, _, err = cli(*load_args(), env=env)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"StoreError: chDB store {locked_store} is locked")
    assert (
        f"; handing the load to the service failed: http://127.0.0.1:{port}: cannot reach "
        "the repotrack service:" in lines[0]
    )
    assert PASSWORD not in err
