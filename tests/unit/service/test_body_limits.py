"""Bodies on ``/api/v1``: the password is checked before a byte is read, and every route
has a size cap (413 beyond), whether the client declares a length or streams chunks.

The attack from issue 9: an anonymous 300 MB JSON body grew the service by 800 MB
before its 401. Here the body is sent over a raw socket to the real server (uvicorn in
a thread of this process), and the process's resident size is read from
``/proc/self/statm`` before and after: it must stay flat.
"""

from __future__ import annotations

import base64
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.passwords import hash_password
from repotrack.service.body_limits import BODY_CAPS, body_cap
from tests.functional.server import ServerHandle, running_server

AUTH = ("admin", "Passw0rd~")
FAST = {"password_hash": hash_password(AUTH[1], iterations=1000)}
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    tmp_path = tmp_path_factory.mktemp("bodies")
    with running_server(tmp_path, tls=False, password=AUTH[1], service=FAST) as handle:
        yield handle


def rss() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def raw_post(
    server: ServerHandle,
    path: str,
    *,
    body_size: int,
    declared: int | None = None,
    authorization: str | None = None,
    chunked: bool = False,
) -> tuple[int, bytes]:
    """POST ``body_size`` bytes of JSON-ish filler; returns (status, body of the answer).

    Sending stops as soon as the server stops reading (its answer came first, or the
    socket buffers filled): the point is that it never has to take the whole body.
    """
    host, port = server.host_port.split(":")
    head = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    if authorization:
        head.append(f"Authorization: {authorization}")
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {declared}")
    with socket.create_connection((host, int(port))) as sock:
        sock.settimeout(2.0)
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        chunk = b'{"x": "' + b"a" * (MIB - 16) + b'"}'
        sent = 0
        try:
            while sent < body_size:
                piece = chunk[: min(len(chunk), body_size - sent)]
                if chunked:
                    sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                else:
                    sock.sendall(piece)
                sent += len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed, or stopped reading: both fine
        return _read_answer(sock)


def _read_answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            break
        data += part
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
    length = int(headers.get(b"content-length", b"0"))
    while len(rest) < length:
        part = sock.recv(65536)
        if not part:
            break
        rest += part
    return status, rest


def test_anonymous_300mb_body_is_refused_unread_and_memory_stays_flat(
    server: ServerHandle,
) -> None:
    before = rss()
    status, answer = raw_post(server, "/api/v1/items", body_size=300 * MIB, declared=300 * MIB)
    after = rss()
    grown = (after - before) / MIB
    print(f"RSS before {before / MIB:.0f} MiB, after {after / MIB:.0f} MiB (+{grown:.0f})")
    assert status == 401
    assert json.loads(answer) == {"detail": "authentication required"}
    assert grown < 50


def test_anonymous_chunked_body_is_refused_unread(server: ServerHandle) -> None:
    before = rss()
    status, _ = raw_post(server, "/api/v1/loads", body_size=100 * MIB, chunked=True)
    assert status == 401
    assert (rss() - before) / MIB < 50


def test_wrong_password_is_refused_before_the_body(server: ServerHandle) -> None:
    status, _ = raw_post(
        server,
        "/api/v1/items",
        body_size=20 * MIB,
        declared=20 * MIB,
        authorization=basic("admin", "wrong"),
    )
    assert status == 401


def test_declared_length_over_the_cap_is_413_unread(server: ServerHandle) -> None:
    status, answer = raw_post(
        server,
        "/api/v1/items",
        body_size=2 * MIB,
        declared=2 * MIB,
        authorization=basic(*AUTH),
    )
    assert status == 413
    assert f"larger than {body_cap('/api/v1/items')} bytes" in json.loads(answer)["detail"]


def test_chunked_body_over_the_cap_is_cut_off_with_413(server: ServerHandle) -> None:
    before = rss()
    status, _ = raw_post(
        server, "/api/v1/items", body_size=100 * MIB, chunked=True, authorization=basic(*AUTH)
    )
    assert status == 413
    assert (rss() - before) / MIB < 50


def test_compat_route_cap_answers_413_beyond_its_envelope_limit(server: ServerHandle) -> None:
    status, _ = raw_post(
        server, "/tracking", body_size=5 * MIB, declared=5 * MIB, authorization=basic(*AUTH)
    )
    assert status == 413


def test_bodies_under_the_cap_still_work(server: ServerHandle) -> None:
    item = {
        "version_control": "github",
        "scm_repo": "madler/zlib",
        "scm_branch": "develop",
        "repo": "https://gitee.com/src-openeuler/zlib-body",
        "branch": "master",
    }
    with server.client(auth=AUTH) as http:
        assert http.post("/api/v1/items", json=item).status_code == 201
    with server.client() as http:
        assert http.post("/api/v1/items", json=item).status_code == 401


def test_every_api_route_has_a_cap_of_a_few_megabytes_at_most() -> None:
    assert all(cap <= 4 * MIB for _, cap in BODY_CAPS)
    assert body_cap("/api/v1/anything") <= 4 * MIB
