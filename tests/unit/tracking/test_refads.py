"""Branch heads over smart HTTP in-process (``refads``), checked against ``git ls-remote``.

The server is git's own ``git http-backend`` behind the fake forge's HTTP door, so the
protocol is real git's, in version 2 (``ls-refs``) and, when the client does not ask for
version 2, the original ref advertisement.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from repotrack.tracking import refads
from repotrack.tracking.quickscan import remote_heads
from tests.forges import ForgeServer
from tests.unit.tracking.pipeline_world import add_commits, git, make_upstream


def _ls_remote(url: str) -> dict[str, str]:
    out = subprocess.run(
        ["git", "ls-remote", "--heads", url], capture_output=True, text=True, check=True
    ).stdout
    return {ref: sha for sha, ref in (line.split("\t") for line in out.splitlines())}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ForgeServer, str, Path]]:
    with ForgeServer("gitea", git_root=tmp_path / "git") as forge:
        work = tmp_path / "work"
        make_upstream(work)
        add_commits(work, 2)
        git(work, "branch", "feature/x")
        git(work, "tag", "v2")
        bare = forge.init_repo("up/stream")
        git(work, "push", "--quiet", str(bare), "main", "feature/x", "v2")
        yield forge, f"{forge.web_url}/up/stream.git", bare


def test_v2_heads_equal_git_ls_remote(served: tuple[ForgeServer, str, Path]) -> None:
    forge, url, _ = served
    with refads.http_client(timeout=10, workers=2) as client:
        heads = refads.http_heads(client, url)
    assert heads == _ls_remote(url)
    assert set(heads or {}) == {"refs/heads/main", "refs/heads/feature/x"}
    # Version 2 was spoken: the branch listing came from ls-refs.
    posts = [
        c
        for c in forge.calls
        if c.method == "POST" and "repotrack" in c.headers.get("user-agent", "")
    ]
    assert len(posts) == 1 and b"command=ls-refs" in posts[0].body


def test_v0_advertisement_is_read(served: tuple[ForgeServer, str, Path]) -> None:
    _, url, _ = served
    with httpx.Client() as client:  # no Git-Protocol header: the original advertisement
        response = client.get(f"{url}/info/refs", params={"service": "git-upload-pack"})
    sections = refads.parse_pkt_lines(response.content)
    lines = [line for section in sections[1:] for line in section]
    assert b"\0" in lines[0]  # the first ref carries the capabilities
    assert refads._v0_heads(lines) == _ls_remote(url)


def test_remote_heads_mixes_http_and_local(
    served: tuple[ForgeServer, str, Path], tmp_path: Path
) -> None:
    _, url, bare = served
    missing = url.replace("up/stream", "up/none")
    found = remote_heads([url, str(bare), missing], workers=2, timeout=10)
    assert found[url] == _ls_remote(url) == found[str(bare)]
    assert found[missing] is None  # git was asked too, and failed as well


def test_a_dumb_http_server_is_left_to_git(tmp_path: Path) -> None:
    make_upstream(tmp_path / "work")
    bare = tmp_path / "www" / "repo.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(tmp_path / "work"), str(bare))
    git(bare, "update-server-info")
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "www"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/repo.git"
        with refads.http_client(timeout=10, workers=1) as client:
            assert refads.http_heads(client, url) is None
        found = remote_heads([url], workers=1, timeout=10)
        assert found[url] == _ls_remote(url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize(
    "data",
    [b"0005", b"zzzz", b"0009abc"],
)
def test_malformed_pkt_lines_raise(data: bytes) -> None:
    with pytest.raises(ValueError):
        refads.parse_pkt_lines(data)


# -- local repositories ----------------------------------------------------------------------
def test_local_heads_equal_git_ls_remote_loose_packed_and_mixed(tmp_path: Path) -> None:
    work = tmp_path / "work"
    make_upstream(work)
    git(work, "branch", "feature/x")
    assert refads.local_heads(str(work)) == _ls_remote(str(work))
    git(work, "pack-refs", "--all")  # every ref in packed-refs now
    assert not (work / ".git" / "refs" / "heads" / "main").exists()
    assert refads.local_heads(str(work)) == _ls_remote(str(work))
    add_commits(work, 1)  # main loose again, newer than its packed line
    heads = refads.local_heads(str(work))
    assert heads == _ls_remote(str(work))
    assert heads is not None and heads["refs/heads/main"] == git(work, "rev-parse", "HEAD")
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(work), str(bare))
    assert refads.local_heads(f"file://{bare}") == _ls_remote(str(bare)) == heads


def test_what_git_knows_better_is_left_to_git(tmp_path: Path) -> None:
    work = tmp_path / "work"
    make_upstream(work)
    assert refads.local_heads(str(tmp_path / "nothing")) is None
    assert refads.local_heads(str(tmp_path)) is None  # not a repository
    git(work, "worktree", "add", "--quiet", str(tmp_path / "wt"), "-b", "side")
    assert refads.local_heads(str(tmp_path / "wt")) is None  # a .git file
    git(work, "symbolic-ref", "refs/heads/alias", "refs/heads/main")
    assert refads.local_heads(str(work)) is None  # a symbolic ref
    # And the scan still gets git's answer for each.
    found = remote_heads([str(work), str(tmp_path / "wt")], workers=1, timeout=10)
    assert found[str(work)] == _ls_remote(str(work))
    assert found[str(tmp_path / "wt")] == _ls_remote(str(tmp_path / "wt"))
