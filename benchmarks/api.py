"""Requests per second of ``/tracking`` with 10 000 items stored, against a minimal ASGI app.

Both servers are uvicorn over TLS (the same self-signed certificate), each in its own
process, started the same way; the client is one httpx keep-alive connection in
this process. Measured:

* ``POST /tracking``  upserts of existing items (Basic auth, SQLite write + commit);
* ``GET /tracking?repo=..&branch=..``  one item by its key;
* ``GET /tracking``  the whole list of 10 000 items (the original has no pagination).

The baseline answers the same requests with a fixed small envelope, so the ratio is
the cost of repotrack's work per request on this machine. Beside the rates, the CPU
time (user + system) the server process spent per request, read from ``/proc``, which
the other load on a shared machine disturbs less than the wall-clock rate.

Run: ``uv run python benchmarks/api.py [--items 10000] [--posts 300] [--gets 300] [--lists 10]``
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

USER, PASSWORD = "admin", "Passw0rd~"
ENVELOPE = b'{"code":"2001","msg":"Successful Operation!","data":null}'


async def baseline_app(scope: dict[str, Any], receive: Callable[..., Any], send: Any) -> None:
    """The least an ASGI app can do: drain the body, answer a fixed JSON envelope."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": ENVELOPE})


def item(n: int) -> dict[str, Any]:
    return {
        "version_control": "git",
        "scm_repo": f"https://git.example/upstream/project{n}.git",
        "scm_branch": "main",
        "scm_commit": None,
        "repo": f"https://gitee.com/src-openeuler/project{n}",
        "branch": "master",
        "enabled": True,
    }


def seed(state_url: str, count: int) -> None:
    from repotrack.state import StateDB, Tracking

    db = StateDB(state_url)
    with db.session() as session:
        session.add_all(Tracking(**item(n)) for n in range(count))
    db.close()


def serve_child(kind: str, port: int, home: Path) -> None:
    """Runs in the child process: one uvicorn server, TLS on, access log off."""
    import uvicorn

    from repotrack.config import Listen, Settings
    from repotrack.service import create_app, uvicorn_config

    listen = Listen(host="127.0.0.1", port=port)
    cert, key = home / "tls" / "self-signed.crt", home / "tls" / "self-signed.key"
    if kind == "baseline":
        app: Any = baseline_app
    else:
        settings = Settings.model_validate_json((home / "settings.json").read_text())
        app = create_app(settings, scheduler=False)
    config = uvicorn_config(
        app, listen=listen, certfile=cert, keyfile=key, log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(kind: str, home: Path) -> Iterator[str]:
    port = free_port()
    args = [sys.executable, __file__, "--serve", kind, "--port", str(port), "--home", str(home)]
    child = subprocess.Popen(args)
    base = f"https://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=str(home / "tls" / "self-signed.crt"))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/tracking?repo=none", verify=context, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        _SERVER["pid"] = child.pid
        yield base
    finally:
        child.terminate()
        child.wait(timeout=30)


_SERVER: dict[str, int] = {}
_CPU_MS: dict[str, float] = {}


def server_cpu() -> float:
    """CPU seconds (user + system) of the server process so far."""
    fields = Path(f"/proc/{_SERVER['pid']}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rate(requests: int, call: Callable[[int], httpx.Response], name: str = "") -> float:
    call(0)  # warm-up: first auth check, caches, connection
    start = time.perf_counter()
    cpu = server_cpu()
    for n in range(requests):
        answer = call(n)
        assert answer.status_code == 200, answer.text[:200]
    _CPU_MS[name] = (server_cpu() - cpu) / requests * 1000
    return requests / (time.perf_counter() - start)


def measure(base: str, home: Path, args: argparse.Namespace) -> dict[str, float]:
    context = ssl.create_default_context(cafile=str(home / "tls" / "self-signed.crt"))
    with httpx.Client(base_url=base, verify=context, auth=(USER, PASSWORD), timeout=120) as http:
        return {
            "POST /tracking": rate(
                args.posts, lambda n: http.post("/tracking", json=item(n % args.items)), "post"
            ),
            "GET /tracking?repo&branch": rate(
                args.gets,
                lambda n: http.get(
                    "/tracking", params={"repo": item(n % args.items)["repo"], "branch": "master"}
                ),
                "get",
            ),
            f"GET /tracking ({args.items} items)": rate(
                args.lists, lambda n: http.get("/tracking"), "list"
            ),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--gets", type=int, default=300)
    parser.add_argument("--lists", type=int, default=10)
    parser.add_argument("--serve", choices=["repotrack", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_child(args.serve, args.port, args.home)
        return

    from repotrack.config import Settings
    from repotrack.passwords import hash_password
    from repotrack.service import generate_self_signed

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        generate_self_signed(home / "tls", key_size=2048)
        settings = Settings(home=home, service={"password_hash": hash_password(PASSWORD)})
        dumped = settings.model_dump(mode="json")
        dumped["service"]["password_hash"] = hash_password(PASSWORD)
        (home / "settings.json").write_text(json.dumps(dumped))
        seed(settings.state_url, args.items)
        results = {}
        cpu_ms = {}
        for kind in ("baseline", "repotrack"):
            with server(kind, home) as base:
                results[kind] = measure(base, home, args)
                cpu_ms[kind] = dict(_CPU_MS)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"{'request':34} {'repotrack req/s':>16} {'baseline req/s':>15} {'ratio':>7}"
        f" {'server CPU ms/req':>18} {'baseline':>9}"
    )
    for (name, value), key in zip(
        results["repotrack"].items(), ("post", "get", "list"), strict=True
    ):
        base_value = results["baseline"][name]
        print(
            f"{name:34} {value:16.1f} {base_value:15.1f} {value / base_value:7.3f}"
            f" {cpu_ms['repotrack'][key]:18.2f} {cpu_ms['baseline'][key]:9.2f}"
        )


if __name__ == "__main__":
    main()
