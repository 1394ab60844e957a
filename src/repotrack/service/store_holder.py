"""The analytics store the service owns: opened on first use, closed at shutdown.

A chDB directory can be opened by one process at a time, and opening it costs a
fraction of a second to seconds; so the service opens it once and shares it between
requests (``ChdbStore`` keeps a connection per thread). It is opened lazily rather
than at start-up, so a service that only tracks patches never claims the store and
pays nothing for it. An embedded store is migrated when opened, as ``repotrack load``
does: it belongs to this installation, so a fresh service answers "no such branch"
rather than failing on tables that do not exist yet (a ClickHouse server's schema is
its administrator's business).
"""

from __future__ import annotations

import threading

from repotrack.store import Store, open_current_store

__all__ = ["StoreHolder"]


class StoreHolder:
    """Opens ``url`` on the first ``get()``; ``close()`` releases it (and allows a reopen)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: Store | None = None
        self._lock = threading.Lock()

    def get(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = open_current_store(self.url)
            return self._store

    def close(self) -> None:
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()
