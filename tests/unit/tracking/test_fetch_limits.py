"""A fetch that hangs or grows too big is stopped with its whole process group (issue 9).

The hanging upstream is a real TCP server on 127.0.0.1 that accepts and never answers,
so git starts ``git-remote-http`` and both wait; the children are counted in ``/proc``.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.errors import UpstreamError
from repotrack.tracking.gitproc import directory_size
from repotrack.tracking.upstream import Mirror
from tests.unit.tracking.pipeline_world import add_commits, git, make_upstream


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port whose server accepts connections and never sends a byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text`` (zombies have none)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(entry.name))
    return found


def test_timeout_kills_git_and_its_remote_helper(tmp_path: Path, silent_server: int) -> None:
    url = f"http://127.0.0.1:{silent_server}/hang.git"
    mirror = Mirror(tmp_path / "cache", url, timeout=3)
    with pytest.raises(UpstreamError, match="timed out after 3s"):
        mirror.fetch()
    assert processes_mentioning(f"127.0.0.1:{silent_server}") == []
    assert not mirror.path.exists()  # the mirror this fetch created went with it


def test_mirror_beyond_its_size_limit_is_refused_and_removed(tmp_path: Path) -> None:
    upstream = tmp_path / "upstream"
    make_upstream(upstream)
    (upstream / "big.bin").write_bytes(os.urandom(1024 * 1024))  # does not compress
    add_commits(upstream, 1)
    git(upstream, "add", "big.bin")
    git(upstream, "commit", "--quiet", "-m", "big")
    mirror = Mirror(tmp_path / "cache", str(upstream), timeout=60, max_bytes=64 * 1024)
    with pytest.raises(UpstreamError, match=r"beyond 65536 bytes \(tracking.max_mirror_bytes\)"):
        mirror.fetch()
    assert not mirror.path.exists()
    roomy = Mirror(tmp_path / "cache", str(upstream), timeout=60, max_bytes=64 * 1024 * 1024)
    roomy.fetch()
    assert 0 < directory_size(roomy.path) <= 64 * 1024 * 1024
