"""A real HTTP server on 127.0.0.1 for feed tests, in a thread, serving programmed replies.

Each path gets one ``Reply`` or a list of them (served in turn, the last one repeated),
so a test can say "500, then 200". A reply with ``last_modified`` answers 304 to an
``If-Modified-Since`` at or after it, as a real web server would. ``truncate`` sends a
Content-Length larger than the body and closes the connection; ``delay`` sleeps
before answering (a slow server). Every request is recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    last_modified: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate: bool = False


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        #: The reply to a path without a route (a 404 unless a test sets another).
        self.default = Reply(b"not found", status=404)
        self.requests: list[Seen] = []
        self._stop = threading.Event()
        server = self
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def set(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def reply_for(self, path: str) -> Reply:
        replies = self.routes.get(path)
        if not replies:
            return self.default
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            server.requests.append(Seen("GET", parts.path, parts.query, dict(self.headers)))
            reply = server.reply_for(parts.path)
            if reply.delay:
                server._stop.wait(reply.delay)
            if _not_modified(reply, self.headers.get("If-Modified-Since")):
                self.send_response(304)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if reply.last_modified is not None:
                self.send_header("Last-Modified", format_datetime(reply.last_modified, usegmt=True))
            declared = len(reply.body) * 2 + 10 if reply.truncate else len(reply.body)
            self.send_header("Content-Length", str(declared))
            if reply.truncate:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply.body)
            if reply.truncate:
                self.wfile.flush()
                self.close_connection = True

    return Handler


def _not_modified(reply: Reply, since: str | None) -> bool:
    if reply.status != 200 or reply.last_modified is None or not since:
        return False
    return reply.last_modified <= parsedate_to_datetime(since)


def nginx_listing(entries: list[tuple[str, datetime]]) -> bytes:
    """An nginx autoindex page: ``name`` ends with ``/`` for directories; times are local."""
    lines = [
        "<html><head><title>Index of /</title></head><body><h1>Index of /</h1><hr><pre>",
        '<a href="../">../</a>',
    ]
    for name, when in entries:
        size = "-" if name.endswith("/") else "1234"
        lines.append(f'<a href="{name}">{name}</a>{" " * 20}{when:%d-%b-%Y %H:%M}{size:>20}')
    lines.append("</pre><hr></body></html>")
    return "\n".join(lines).encode()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
