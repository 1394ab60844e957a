"""``repotrack serve`` as a real subprocess on a free loopback port (plain HTTP).

For tests about the process itself: how it stops on SIGTERM, how it behaves under a
flood of clients that must not share its GIL. Usage::

    with serve_process(tmp_path, env={"REPOTRACK_LOADS__ALLOWED_ROOTS": '["/srv"]'}) as served:
        httpx.get(served.base_url + "/healthz")
        served.proc.send_signal(signal.SIGTERM)

The process is always killed when the block ends (SIGKILL if it did not stop).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from repotrack.passwords import hash_password

__all__ = ["PASSWORD", "Served", "serve_process"]

BIN = Path(sys.executable).parent
PASSWORD = "Passw0rd~"
_START_TIMEOUT = 60.0


@dataclass
class Served:
    base_url: str
    proc: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_process(
    tmp_path: Path, *, env: dict[str, str] | None = None, iterations: int = 1000
) -> Iterator[Served]:
    """Start ``repotrack serve --no-tracker`` with an admin account; kill it afterwards."""
    port = _free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    full_env.update(
        REPOTRACK_HOME=str(tmp_path / "home"),
        REPOTRACK_SERVICE__LISTEN=f"127.0.0.1:{port}",
        REPOTRACK_SERVICE__PASSWORD_HASH=hash_password(PASSWORD, iterations=iterations),
        REPOTRACK_LOG_LEVEL="WARNING",
    )
    full_env.update(env or {})
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(BIN / "repotrack"), "serve", "--no-tracker"],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", proc, log_path, full_env)
    try:
        _wait_ready(served)
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _wait_ready(served: Served) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    with httpx.Client(base_url=served.base_url, timeout=5.0) as http:
        while time.monotonic() < deadline:
            if served.proc.poll() is not None:
                raise RuntimeError(f"repotrack serve exited:\n{served.log.read_text()}")
            try:
                if http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"repotrack serve did not start:\n{served.log.read_text()}")
