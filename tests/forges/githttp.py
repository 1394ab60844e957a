"""Git smart HTTP for the fake forges, through the real ``git http-backend`` CGI.

A pipeline pushes its branch to ``ForgeTarget.clone_url`` (``<web_url>/<owner>/<name>.git``)
over HTTP with the token as the Basic-auth password. Serving the bare repositories under
``ForgeServer.git_root`` with git's own CGI means the push is real git, and the fake can
check the credentials the same way the forge would: fetches are anonymous (a public
repository), pushes need the token.
"""

from __future__ import annotations

import base64
import os
import subprocess
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from tests.forges.server import Call, Reply

if TYPE_CHECKING:
    from tests.forges.server import ForgeServer


def repo_path(forge: ForgeServer, full_name: str) -> Path:
    if forge.git_root is None:
        raise RuntimeError("this fake forge was started without git_root")
    return forge.git_root / f"{full_name}.git"


def init_repo(forge: ForgeServer, full_name: str, *, branch: str = "master") -> Path:
    """Create an empty bare repository served at ``<web_url>/<full_name>.git``."""
    path = repo_path(forge, full_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "init", "--quiet", "--bare", f"--initial-branch={branch}", str(path)],
        check=True,
    )
    subprocess.run(
        ["git", "--git-dir", str(path), "config", "http.receivepack", "true"], check=True
    )
    forge.add_repo(full_name)
    return path


def clone_repo(forge: ForgeServer, parent: str, full_name: str) -> Path:
    """A bare copy of ``parent``'s repository as ``full_name`` (what a fork starts with)."""
    path = repo_path(forge, full_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = repo_path(forge, parent)
    subprocess.run(
        ["git", "clone", "--quiet", "--bare", str(source), str(path)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["git", "--git-dir", str(path), "config", "http.receivepack", "true"], check=True
    )
    return path


def branch_exists(forge: ForgeServer, full_name: str, branch: str) -> bool:
    path = repo_path(forge, full_name)
    if not path.is_dir():
        return False
    result = subprocess.run(
        ["git", "--git-dir", str(path), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def _basic_user(headers: dict[str, str], token: str) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return user or "token" if password == token or (user == token and not password) else None


def serve_git(
    forge: ForgeServer,
    method: str,
    split: urllib.parse.SplitResult,
    raw_headers: dict[str, str],
    body: bytes,
) -> Reply:
    headers = {k.lower(): v for k, v in raw_headers.items()}
    query = {k: v[-1] for k, v in urllib.parse.parse_qs(split.query).items()}
    pushing = split.path.endswith("/git-receive-pack") or (
        query.get("service") == "git-receive-pack"
    )
    call = Call(method, split.path, split.geturl(), query, headers, "git", body, {})
    user = _basic_user(headers, forge.token)
    name = urllib.parse.unquote(split.path).split(".git/")[0].strip("/")
    if forge.fork_still_copying(name):
        # GitHub and GitLab fork in a background job: the repository exists at once but
        # its git objects come later (GitHub's "Create a fork": "you may have to wait a
        # short period of time before you can access the git objects").
        reply = Reply(404, "Repository not found.\n")
    elif pushing and user is None:
        reply = Reply(401, "authentication required\n", {"WWW-Authenticate": 'Basic realm="fake"'})
    elif pushing and forge.push_denied(name):
        reply = Reply(403, "You do not have permission to push to this repository\n")
    else:
        reply = _run_backend(forge, method, split, headers, body, user)
    call.status = reply.status
    forge._record(call)
    return reply


def _run_backend(
    forge: ForgeServer,
    method: str,
    split: urllib.parse.SplitResult,
    headers: dict[str, str],
    body: bytes,
    user: str | None,
) -> Reply:
    assert forge.git_root is not None
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(forge.git_root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": urllib.parse.unquote(split.path),
        "QUERY_STRING": split.query,
        "REQUEST_METHOD": method,
        "CONTENT_TYPE": headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
    }
    if user:
        env["REMOTE_USER"] = user
    if "content-encoding" in headers:
        env["HTTP_CONTENT_ENCODING"] = headers["content-encoding"]
    if "git-protocol" in headers:
        env["GIT_PROTOCOL"] = headers["git-protocol"]
    result = subprocess.run(
        ["git", "http-backend"], input=body, env=env, capture_output=True, check=False, timeout=120
    )
    raw = result.stdout
    sep = b"\r\n\r\n" if b"\r\n\r\n" in raw else b"\n\n"
    head, _, payload = raw.partition(sep)
    status = 200
    out_headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            out_headers[name.strip()] = value.strip()
    if result.returncode != 0 and not payload:
        return Reply(500, result.stderr.decode(errors="replace"))
    out_headers.setdefault("Content-Type", "application/octet-stream")
    return Reply(status, payload, out_headers)
