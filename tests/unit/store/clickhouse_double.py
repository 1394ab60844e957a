"""A stand-in for a ClickHouse server's HTTP interface, in a thread, for plumbing tests.

It records every request (method, URL parameters, headers, body) and answers by
running the SQL in an in-memory chDB, so that clickhouse-connect's own encoding and
decoding (Native format, lz4, ``param_<name>`` arguments) are exercised for real. It
is not a ClickHouse server: sessions, users and most settings are ignored.
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_INSERT_HEAD = re.compile(rb"^(\s*INSERT\s+INTO\s[^\n]+?\s+FORMAT\s+\w+)[ \t]*\n", re.IGNORECASE)
_INPUT = re.compile(r"input\('(?:[^'\\]|\\.)*'\)")
_INSERT = re.compile(r"^\s*(INSERT\s+INTO\s+.+?)\s+FORMAT\s+(\w+)\s*$", re.IGNORECASE | re.DOTALL)


@dataclass
class Recorded:
    method: str
    params: dict[str, str]
    headers: dict[str, str]
    sql: str
    body_size: int


@dataclass
class Double:
    port: int
    #: what ``SELECT serverTimezone()`` answers (the double's chDB is always in UTC)
    server_zone: str = "UTC"
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sql(self) -> list[str]:
        return [r.sql for r in self.requests]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = self._body()
        if self.headers.get("Content-Encoding") == "lz4":
            import lz4.frame

            body = lz4.frame.decompress(body)
        query = params.get("query")
        data = b""
        if query is None:
            head = _INSERT_HEAD.match(body)
            if head:  # INSERT ... FORMAT X, a newline, then the data, all in the body
                query, data = head[1].decode(), body[head.end() :]
            else:
                query = body.decode("utf-8", "surrogateescape")
        else:
            data = body
        double = self.server.double
        with double.lock:
            double.requests.append(
                Recorded(self.command, params, dict(self.headers.items()), query, len(data))
            )
            status, payload = self.server.run(query, params, data)
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-ClickHouse-Server-Display-Name", "double")
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


class _Server(ThreadingHTTPServer):
    double: Double
    conn: Any

    def run(self, query: str, params: dict[str, str], data: bytes) -> tuple[int, bytes]:
        bound = {k[len("param_") :]: v for k, v in params.items() if k.startswith("param_")}
        zone = self.double.server_zone.replace("'", "")
        query = query.replace("serverTimezone()", f"'{zone}'")  # in the format asked for
        try:
            insert = _INSERT.match(query)
            source = _INPUT.search(query)
            if insert and data and source:  # INSERT ... SELECT ... FROM input('...')
                with tempfile.NamedTemporaryFile(suffix=".native") as spool:
                    spool.write(data)
                    spool.flush()
                    sql = insert[1][: source.start()] + f"file('{spool.name}', 'Native')"
                    sql += insert[1][source.end() :]
                    self.conn.query(sql, "CSV")
                return 200, b""
            if insert and data:
                with self.conn.send_insert(insert[1], insert[2]) as inserter:
                    inserter.append(data)
                    inserter.finish()
                return 200, b""
            return 200, self.conn.query(query, "TabSeparated", params=bound).bytes()
        except Exception as exc:
            return 500, f"Code: 62. DB::Exception: {exc}".encode()


@contextmanager
def clickhouse_double(*, server_zone: str = "UTC") -> Iterator[Double]:
    """Serve on a free 127.0.0.1 port until the block ends."""
    from repotrack.store.chdb_backend import _import_chdb  # the engine loaded in UTC

    server = _Server(("127.0.0.1", 0), _Handler)
    server.double = Double(port=server.server_address[1], server_zone=server_zone)
    server.conn = _import_chdb().connect(":memory:?session_timezone=UTC")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.double
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        server.conn.close()
