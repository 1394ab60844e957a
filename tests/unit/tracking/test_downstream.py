"""Downstream git: prepare, commit and push to a bare repo over file:// and smart HTTP.

The HTTP side is a small loopback server that checks Basic auth and runs the real
``git http-backend`` as a CGI, so the token path (askpass, no config on disk, redaction)
is exercised end to end.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import SecretStr

from repotrack.errors import AuthError, ConflictError, InputError, NotFoundError
from repotrack.tracking.downstream import Downstream
from tests.unit.tracking.test_upstream_gitutil import Repo, git

AUTHOR = "patch-tracking <patch-tracking@localhost>"
TOKEN = "tok-3f9a8b7c6d5e4f3a2b1c"


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare downstream repository with a ``master`` branch holding a spec."""
    seed = Repo(tmp_path / "seed", branch="master")
    seed.commit("Package demo", {"demo.spec": "Name: demo\n", "README.md": "demo\n"})
    bare = tmp_path / "srv" / "demo.git"
    bare.parent.mkdir()
    git(tmp_path, "clone", "--quiet", "--bare", str(seed.path), str(bare))
    return bare


def _remote_file(bare: Path, ref: str, name: str) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(bare), "show", f"{ref}:{name}"],
        capture_output=True,
        check=True,
    ).stdout


def test_push_over_file_url(remote: Path, tmp_path: Path) -> None:
    down = Downstream(tmp_path / "cache", remote.as_uri(), token=None, username=None, timeout=60)
    tree = down.prepare("master")
    assert (tree / "demo.spec").read_text() == "Name: demo\n"
    assert down.remote_branch_exists("patch-tracking/20261121120000000000") is None
    sha = down.commit_and_push(
        tree,
        branch="patch-tracking/20261121120000000000",
        files={"a" * 40 + ".patch": b"From x\n", "demo.spec": b"Name: demo\nPatch6000: a\n"},
        message="[patch tracking] 20261121120000000000\n\nbody",
        author=AUTHOR,
    )
    branch = "refs/heads/patch-tracking/20261121120000000000"
    assert down.remote_branch_exists("patch-tracking/20261121120000000000") == sha
    assert _remote_file(remote, branch, "demo.spec") == b"Name: demo\nPatch6000: a\n"
    assert _remote_file(remote, branch, "README.md") == b"demo\n"
    log = git(remote, "log", "-1", "--format=%an <%ae>|%cn|%s|%P", branch)
    master = git(remote, "rev-parse", "master")
    assert log == f"{AUTHOR}|patch-tracking|[patch tracking] 20261121120000000000|{master}"
    assert git(remote, "rev-parse", "master") == master  # base untouched
    down.release(tree)
    assert not tree.exists()


def test_second_run_reuses_cache_and_sees_new_base(remote: Path, tmp_path: Path) -> None:
    down = Downstream(tmp_path / "cache", remote.as_uri(), timeout=60)
    first = down.prepare("master")
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", str(remote), str(other))
    (other / "NEWS").write_text("news\n")
    git(other, "add", "NEWS")
    git(other, "commit", "--quiet", "-m", "news")
    git(other, "push", "--quiet", "origin", "master")
    second = Downstream(tmp_path / "cache", remote.as_uri(), timeout=60).prepare("master")
    assert second != first
    assert (second / "NEWS").exists() and not (first / "NEWS").exists()


def test_existing_branch_is_never_overwritten(remote: Path, tmp_path: Path) -> None:
    down = Downstream(tmp_path / "cache", remote.as_uri(), timeout=60)
    branch = "patch-tracking/1"
    down.commit_and_push(
        down.prepare("master"), branch=branch, files={"x": b"1"}, message="m", author=AUTHOR
    )
    before = down.remote_branch_exists(branch)
    with pytest.raises(ConflictError, match="push rejected"):
        down.commit_and_push(
            down.prepare("master"), branch=branch, files={"x": b"2"}, message="m", author=AUTHOR
        )
    assert down.remote_branch_exists(branch) == before


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", ".git/config", "a/../../b", ""])
def test_paths_outside_the_tree_are_refused(remote: Path, tmp_path: Path, name: str) -> None:
    down = Downstream(tmp_path / "cache", remote.as_uri(), timeout=60)
    tree = down.prepare("master")
    with pytest.raises(InputError):
        down.commit_and_push(tree, branch="b", files={name: b"x"}, message="m", author=AUTHOR)
    assert not (tmp_path / "escape").exists()
    assert down.remote_branch_exists("b") is None


def test_bad_inputs(remote: Path, tmp_path: Path) -> None:
    down = Downstream(tmp_path / "cache", remote.as_uri(), timeout=60)
    with pytest.raises(NotFoundError, match="'nope' does not exist"):
        down.prepare("nope")
    tree = down.prepare("master")
    with pytest.raises(ConflictError, match="nothing to commit"):
        down.commit_and_push(
            tree, branch="b", files={"demo.spec": b"Name: demo\n"}, message="m", author=AUTHOR
        )
    with pytest.raises(InputError):
        down.commit_and_push(tree, branch="b", files={"x": b"1"}, message="m", author="nobody")
    with pytest.raises(InputError):
        down.commit_and_push(tree, branch="-f", files={"x": b"1"}, message="m", author=AUTHOR)
    with pytest.raises(InputError):
        Downstream(tmp_path / "cache", "ext::sh -c id")


# --------------------------------------------------------------------------- smart HTTP


class _GitHttp(BaseHTTPRequestHandler):
    """Basic-auth gate in front of ``git http-backend`` (CGI)."""

    root: Path
    credentials: str
    seen: list[tuple[str, str, str]]

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _serve(self) -> None:
        auth = self.headers.get("Authorization", "")
        self.seen.append((self.command, self.path, auth))
        if auth != "Basic " + base64.b64encode(self.credentials.encode()).decode():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self._body()
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": self.credentials.split(":", 1)[0],
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        ).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            elif key:
                headers.append((key, value.strip()))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


@pytest.fixture
def http_remote(remote: Path) -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    need = shutil.which("git")
    assert need
    seen: list[tuple[str, str, str]] = []
    handler = type(
        "Handler",
        (_GitHttp,),
        {"root": remote.parent, "credentials": f"robot:{TOKEN}", "seen": seen},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/demo.git", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _files_under(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            yield path


def test_push_over_http_with_token(
    http_remote: tuple[str, list[tuple[str, str, str]]], remote: Path, tmp_path: Path
) -> None:
    url, seen = http_remote
    cache = tmp_path / "cache"
    down = Downstream(cache, url, token=SecretStr(TOKEN), username="robot", timeout=60)
    tree = down.prepare("master")
    sha = down.commit_and_push(
        tree,
        branch="patch-tracking/20261121120000000001",
        files={"b" * 40 + ".patch": b"patch\n"},
        message="[patch tracking] x",
        author=AUTHOR,
    )
    assert down.remote_branch_exists("patch-tracking/20261121120000000001") == sha
    assert git(remote, "rev-parse", "refs/heads/patch-tracking/20261121120000000001") == sha
    assert any(auth for _, _, auth in seen)  # credentials were really demanded and sent
    assert all(TOKEN not in path for _, path, _ in seen)
    # the token is nowhere on disk: not in any config, not in the askpass script
    for path in _files_under(cache):
        assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN.encode() not in (tree / ".git").read_bytes()


def test_wrong_token_is_an_auth_error_without_the_token(
    http_remote: tuple[str, list[tuple[str, str, str]]], tmp_path: Path
) -> None:
    url, _ = http_remote
    wrong = "wrong-" + TOKEN[::-1]
    down = Downstream(tmp_path / "cache", url, token=SecretStr(wrong), username="robot")
    with pytest.raises(AuthError) as caught:
        down.prepare("master")
    assert wrong not in str(caught.value)
    assert TOKEN not in str(caught.value)
    anonymous = Downstream(tmp_path / "cache", url, token=None, username=None)
    with pytest.raises(AuthError):
        anonymous.remote_branch_exists("master")


def test_token_in_a_clone_url_is_redacted_from_errors(tmp_path: Path) -> None:
    # Refused before git runs (a token in the URL would show in ``ps``), and redacted.
    with pytest.raises(InputError) as caught:
        Downstream(tmp_path / "cache", f"https://robot:{TOKEN}@127.0.0.1:1/x.git", timeout=30)
    assert TOKEN not in str(caught.value)
    assert "***@127.0.0.1:1" in str(caught.value)


def test_symlinks_in_the_downstream_repo_are_not_followed(tmp_path: Path) -> None:
    """A hostile packaging repo with ``demo.spec -> outside`` cannot make us write outside."""
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    seed = Repo(tmp_path / "seed", branch="master")
    (seed.path / "demo.spec").symlink_to(outside)
    (seed.path / "dir").symlink_to(tmp_path)
    seed.git("add", "demo.spec", "dir")
    seed.git("commit", "--quiet", "-m", "links")
    down = Downstream(tmp_path / "cache", seed.url, timeout=60)
    tree = down.prepare("master")
    for name in ("demo.spec", "dir/outside.txt"):
        with pytest.raises(InputError, match="symlink"):
            down.commit_and_push(tree, branch="b", files={name: b"x"}, message="m", author=AUTHOR)
    assert outside.read_text() == "precious\n"
