"""Store reads give the same output whether the CLI opens the store or the service holds it.

Each command runs first with the store free (the CLI opens chDB itself), then while
``repotrack serve`` runs and holds the same store (the CLI must ask the service); stdout,
stderr and exit status must be identical, errors included.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.functional.test_load_handoff import _free_port
from tests.unit.store.storeutil import fresh_store_url

BIN = Path(sys.executable).parent

COMMANDS = [
    ("query", "packages", "--branch", "p10"),
    ("query", "packages", "--branch", "p10", "--date", "2024-05-15", "--format", "json"),
    ("query", "packages", "--branch", "p10", "--name", "lib*", "--limit", "1"),
    ("query", "packages", "--branch", "p10", "--all", "--format", "json"),
    ("query", "package", "foo", "--branch", "p10"),
    ("query", "package", "foo", "--branch", "p10", "--format", "json"),
    ("query", "diff", "p10", "2024-05-01", "2024-06-01"),
    ("query", "diff", "p10", "2024-05-01", "2024-06-01", "--format", "json"),
    ("db", "status"),
    ("query", "feeds", "foo", "--branch", "p10"),
    ("query", "feeds", "foo", "--branch", "p10", "--format", "json"),
    ("query", "ftbfs", "--branch", "p10"),
    ("query", "newer", "--branch", "p10", "--format", "json"),
    ("query", "maintainer", "--branch", "p10", "--maintainer", "ivan"),
    ("query", "packages", "--branch", "nosuch"),
    ("query", "package", "nosuch", "--branch", "p10"),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("reads") / "home"
    fresh_store_url(tmp_path_factory, home / "store", loaded=True)
    return home


def _env(home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env.update(
        REPOTRACK_HOME=str(home), REPOTRACK_SERVICE__LISTEN=f"127.0.0.1:{port}", COLUMNS="200"
    )
    return env


def _run(env: dict[str, str], args: tuple[str, ...]) -> tuple[int, str, str]:
    done = subprocess.run(
        [str(BIN / "repotrack"), *args], env=env, capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def outputs(home: Path) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    port = _free_port()
    env = _env(home, port)
    alone = [_run(env, args) for args in COMMANDS]
    with _serving(env, port, home.parent / "serve.log"):
        held = [_run(env, args) for args in COMMANDS]
    return alone, held


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=[" ".join(c) for c in COMMANDS])
def test_same_output_with_and_without_the_service(
    outputs: tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]], index: int
) -> None:
    alone, held = outputs
    assert "Traceback" not in alone[index][2]
    assert held[index] == alone[index]


@pytest.mark.slow
def test_the_reads_really_went_both_ways(
    outputs: tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]],
) -> None:
    alone, _held = outputs
    assert alone[0][0] == 0 and "foo" in alone[0][1]
    assert alone[-2][0] == 1 and alone[-2][2].startswith("NotFoundError: ")


def _serving(env: dict[str, str], port: int, log_path: Path) -> _Service:
    return _Service(env, port, log_path)


class _Service:
    """``repotrack serve`` on loopback (plain HTTP), holding the store until stopped."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.env, self.port, self.log_path = env, port, log_path

    def __enter__(self) -> _Service:
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [str(BIN / "repotrack"), "serve", "--no-tracker"],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.log_path.read_text())
                try:
                    # Any store route makes the service open (and from then on hold) the store.
                    if http.get("/api/v1/store/migrations").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"repotrack serve did not start: {self.log_path.read_text()}")

    def __exit__(self, *exc: object) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.mark.slow
def test_locked_store_is_really_locked(home: Path, tmp_path: Path) -> None:
    """While serving, opening the store directly fails: the hand-over above was needed."""
    from repotrack.errors import StoreLockedError
    from repotrack.store import open_store

    port = _free_port()
    env = _env(home, port)
    with _serving(env, port, tmp_path / "serve.log"), pytest.raises(StoreLockedError):
        open_store(f"chdb://{home / 'store'}").close()
