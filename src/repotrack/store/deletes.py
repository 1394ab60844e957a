"""Deletes that need not wait until they are applied.

A ClickHouse ``DELETE`` returns once its mutation is applied (``lightweight_deletes_sync``
defaults to waiting), and applying it waits for the merges the store runs in the
background: on the embedded store a delete of a few rows took 0.2-1 s, with almost
none of it CPU (measured with chDB 26.9, 2 CPUs). Where the rows deleted are rows no
query reads any more (a finished load's journal entries, an old generation of match
targets), the caller need not wait: the delete is recorded before it returns and is
applied in the background, or when the store is next opened.

Only on the embedded store: a ClickHouse server older than 24.4 does not know the
setting, so there the delete waits as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from repotrack.store.base import Store

__all__ = ["unwaited"]

_NO_WAIT: Final = " SETTINGS lightweight_deletes_sync = 0"


def unwaited(store: Store) -> str:
    """The ``SETTINGS`` clause that makes a ``DELETE`` on ``store`` return without waiting
    for it to be applied (empty where that cannot be asked for)."""
    return _NO_WAIT if store.url.startswith("chdb:") else ""
