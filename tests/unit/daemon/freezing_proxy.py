"""A TCP proxy to the real broker that can stop passing the broker's answers on.

A broker that takes a request and never answers it is not something RabbitMQ can be
asked to do; this proxy makes it happen on demand: ``freeze()`` holds back every byte
the broker sends on the connections open at that moment (requests still reach it),
while connections made afterwards pass as usual.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class _Link:
    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client, self.upstream = client, upstream
        self.frozen = False

    def close(self) -> None:
        for sock in (self.client, self.upstream):
            with suppress(OSError):
                sock.close()


class FreezingProxy:
    """Listens on 127.0.0.1 (``port``) and forwards to ``target``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> int:
        """Hold back the broker's bytes on every open connection; returns how many."""
        with self._lock:
            for link in self._links:
                link.frozen = True
            return len(self._links)

    def close(self) -> None:
        self._closed = True
        self._server.close()
        with self._lock:
            for link in self._links:
                link.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            link = _Link(client, upstream)
            with self._lock:
                self._links.append(link)
            threading.Thread(target=self._pump, args=(link, client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(link, upstream, client), daemon=True).start()

    def _pump(self, link: _Link, source: socket.socket, sink: socket.socket) -> None:
        from_broker = source is link.upstream
        try:
            while data := source.recv(65536):
                while from_broker and link.frozen and not self._closed:
                    time.sleep(0.05)  # held back: the client sees no answer
                sink.sendall(data)
        except OSError:
            pass
        link.close()


@contextmanager
def freezing_proxy(host: str = "127.0.0.1", port: int = 5672) -> Iterator[FreezingProxy]:
    proxy = FreezingProxy((host, port))
    try:
        yield proxy
    finally:
        proxy.close()
