"""Branch heads of an HTTP(S) upstream, asked in-process over git's smart HTTP protocol.

``git ls-remote`` of an HTTPS URL starts two processes (``git`` and
``git-remote-https``) and a TLS connection per upstream. A scan asks every upstream, so
here the same question is asked with one shared HTTP client: connections to one host
(``github.com`` for most items) are kept alive and reused, and no process is started.

The protocol (git's ``gitprotocol-http`` and ``gitprotocol-v2`` documents):

1. ``GET <url>/info/refs?service=git-upload-pack`` with ``Git-Protocol: version=2``.
   The answer is ``application/x-git-upload-pack-advertisement``: pkt-lines. A
   version-2 server advertises its capabilities (``version 2``, ``ls-refs``, ...); an
   older one sends ``# service=git-upload-pack`` and a flush, then lists every ref at
   once (``<sha> <ref>\\0<capabilities>``, then ``<sha> <ref>`` lines), read as is.
2. Version 2 only: ``POST <url>/git-upload-pack`` with ``command=ls-refs``, a delimiter
   and ``ref-prefix refs/heads/``, which lists just the branches.

A local upstream (a path or ``file://``, allowed by ``allow_local_upstreams`` for local
mirrors) is read the same way ``git upload-pack`` would list it, from the repository's
files: loose refs under ``refs/heads`` over ``packed-refs`` (:func:`local_heads`). A
repository in another ref format (reftable), a ``.git`` file pointing elsewhere, a
symbolic ref or anything unreadable is left to git.

Anything unexpected (another content type, as from a "dumb" HTTP server; a redirect; an
HTTP error; a TLS failure; a malformed line; an oversized answer) returns ``None`` and the
caller asks ``git ls-remote`` instead, which then reports the problem in git's words. The
in-process path is an optimisation, never a second opinion.
"""

from __future__ import annotations

import os
import ssl
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Final

from repotrack import __version__

if TYPE_CHECKING:  # imported when an HTTP upstream is asked: a local scan does without
    import httpx

__all__ = ["MAX_ADVERTISEMENT", "http_client", "http_heads", "local_heads", "parse_pkt_lines"]

#: Answers larger than this are left to git (a v0 advertisement of a huge repository).
MAX_ADVERTISEMENT: Final = 16 * 1024 * 1024
_ADVERTISEMENT: Final = "application/x-git-upload-pack-advertisement"
_RESULT: Final = "application/x-git-upload-pack-result"
_FLUSH: Final = b"0000"
_DELIM: Final = b"0001"


class _MalformedError(Exception):
    """The answer is not the protocol we speak; git is asked instead."""


def http_client(*, timeout: float, workers: int) -> httpx.Client:
    """One client for a scan: the system's CA store (as git uses it), kept-alive
    connections for ``workers`` threads, environment proxies as git honours them, no
    redirects (git's default follows only the first request's, and the host checks were
    made on the URL as given)."""
    import httpx

    return httpx.Client(
        timeout=timeout,
        verify=ssl.create_default_context(),
        follow_redirects=False,
        headers={"User-Agent": f"git/2.0 (repotrack {__version__})"},
        limits=httpx.Limits(max_connections=max(1, workers), max_keepalive_connections=workers),
    )


def http_heads(client: httpx.Client, url: str) -> dict[str, str] | None:
    """``refs/heads/<name>`` -> sha of the upstream at ``url``, or None: ask git."""
    import httpx

    base = url.rstrip("/")
    try:
        lines = _get_advertisement(client, base)
        if lines and lines[0] == b"version 2\n":
            if not any(line.rstrip(b"\n").split(b"=")[0] == b"ls-refs" for line in lines):
                return None
            return _ls_refs(client, base)
        return _v0_heads(lines)
    except (httpx.HTTPError, _MalformedError, ValueError, UnicodeDecodeError):
        return None


def _read(response: httpx.Response, content_type: str) -> bytes:
    if response.status_code != 200:
        raise _MalformedError(f"HTTP {response.status_code}")
    if response.headers.get("content-type", "").split(";")[0].strip() != content_type:
        raise _MalformedError("not smart HTTP")
    data = bytearray()
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) > MAX_ADVERTISEMENT:
            raise _MalformedError("answer too large")
    return bytes(data)


def _get_advertisement(client: httpx.Client, base: str) -> list[bytes]:
    with client.stream(
        "GET",
        f"{base}/info/refs",
        params={"service": "git-upload-pack"},
        headers={"Git-Protocol": "version=2"},
    ) as response:
        data = _read(response, _ADVERTISEMENT)
    sections = parse_pkt_lines(data)
    if sections and sections[0] == [b"# service=git-upload-pack\n"]:
        sections = sections[1:]  # the original protocol's preamble (version 2 has none)
    lines = [line for section in sections for line in section]
    if not lines:
        raise _MalformedError("empty advertisement")
    return lines


def _ls_refs(client: httpx.Client, base: str) -> dict[str, str]:
    body = _pkt(b"command=ls-refs\n") + _DELIM + _pkt(b"ref-prefix refs/heads/\n") + _FLUSH
    with client.stream(
        "POST",
        f"{base}/git-upload-pack",
        content=body,
        headers={
            "Git-Protocol": "version=2",
            "Content-Type": "application/x-git-upload-pack-request",
            "Accept": _RESULT,
        },
    ) as response:
        data = _read(response, _RESULT)
    heads: dict[str, str] = {}
    for section in parse_pkt_lines(data):
        for line in section:
            sha, _, rest = line.rstrip(b"\n").partition(b" ")
            ref = rest.split(b" ", 1)[0].decode("utf-8")
            _check_sha(sha)
            if ref.startswith("refs/heads/"):
                heads[ref] = sha.decode("ascii")
    return heads


def _v0_heads(lines: list[bytes]) -> dict[str, str]:
    heads: dict[str, str] = {}
    for n, line in enumerate(lines):
        text = line.split(b"\0", 1)[0] if n == 0 else line
        sha, _, ref_bytes = text.rstrip(b"\n").partition(b" ")
        _check_sha(sha)
        ref = ref_bytes.decode("utf-8")
        if ref.startswith("refs/heads/"):
            heads[ref] = sha.decode("ascii")
    return heads


def _check_sha(sha: bytes) -> None:
    if len(sha) not in (40, 64) or sha.strip(b"0123456789abcdef"):
        raise _MalformedError("not an object id")


def _pkt(payload: bytes) -> bytes:
    return f"{len(payload) + 4:04x}".encode("ascii") + payload


def parse_pkt_lines(data: bytes) -> list[list[bytes]]:
    """pkt-lines split into sections at each flush/delimiter/response-end packet.

    A trailing section without a closing flush is kept; a length that runs past the end
    raises ``ValueError``.
    """
    sections: list[list[bytes]] = []
    current: list[bytes] = []
    pos = 0
    while pos < len(data):
        size = int(data[pos : pos + 4], 16)
        if size in (0, 1, 2):
            sections.append(current)
            current = []
            pos += 4
            continue
        if size < 4 or pos + size > len(data):
            raise ValueError("truncated pkt-line")
        current.append(data[pos + 4 : pos + size])
        pos += size
    if current:
        sections.append(current)
    return sections


# -- local repositories ---------------------------------------------------------------------
_MAX_PACKED_REFS: Final = 64 * 1024 * 1024


def local_heads(url: str) -> dict[str, str] | None:
    """Branch heads of the local repository at ``url`` (a path or ``file://``), or None:
    ask git (not a repository we can read this simply)."""
    if url.lower().startswith("file://"):
        split = urllib.parse.urlsplit(url)
        if split.netloc not in ("", "localhost"):
            return None
        path = Path(urllib.parse.unquote(split.path))
    else:
        path = Path(url)
    try:
        git_dir = _git_dir(path)
        if git_dir is None:
            return None
        heads = _packed_heads(git_dir / "packed-refs")
        if heads is None:
            return None
        loose = _loose_heads(git_dir)
        if loose is None:
            return None
        heads.update(loose)
        return heads
    except (OSError, UnicodeDecodeError, _MalformedError):
        return None


def _git_dir(path: Path) -> Path | None:
    """The repository directory: ``path/.git`` (a directory) or a bare ``path``."""
    dot_git = path / ".git"
    if dot_git.is_dir():
        git_dir = dot_git
    elif dot_git.exists():  # a "gitdir:" file (worktree, submodule): git knows best
        return None
    else:
        git_dir = path
    if not (git_dir / "HEAD").is_file() or not (git_dir / "objects").is_dir():
        return None
    if (git_dir / "reftable").exists() or not (git_dir / "refs").is_dir():
        return None
    if (git_dir / "commondir").exists():
        return None
    return git_dir


def _packed_heads(packed: Path) -> dict[str, str] | None:
    heads: dict[str, str] = {}
    try:
        if packed.stat().st_size > _MAX_PACKED_REFS:
            return None
        text = packed.read_text(encoding="utf-8")
    except FileNotFoundError:
        return heads
    for line in text.splitlines():
        if not line or line.startswith(("#", "^")):
            continue
        sha, _, ref = line.partition(" ")
        _check_sha(sha.encode("ascii"))
        if ref.startswith("refs/heads/"):
            heads[ref] = sha
    return heads


def _loose_heads(git_dir: Path) -> dict[str, str] | None:
    heads: dict[str, str] = {}
    root = git_dir / "refs" / "heads"
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".lock"):
                continue  # a ref being written; the rename makes the new value visible
            file = Path(folder, name)
            if file.is_symlink():
                return None
            content = file.read_bytes().strip()
            if content.startswith(b"ref:"):
                return None  # a symbolic ref: git resolves it
            _check_sha(content)
            ref = file.relative_to(git_dir).as_posix()
            heads[ref] = content.decode("ascii")
    return heads
