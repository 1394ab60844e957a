"""rpm >= 4.16's SQLite rpmdb (``rpmdb.sqlite``): the ``Packages`` table of (hnum, blob).

Opened read-only and immutable (``mode=ro&immutable=1``): the file belongs to an
image, possibly copied out of it, and nothing may be written next to it (no
journal, no WAL, no lock file).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from repotrack.errors import InputError

__all__ = ["SQLITE_MAGIC", "iter_sqlite_blobs"]

SQLITE_MAGIC = b"SQLite format 3\0"


def iter_sqlite_blobs(path: Path, *, source: str) -> Iterator[tuple[int, bytes]]:
    """``(hnum, header blob)`` of every row of ``Packages``, in hnum order."""
    with path.open("rb") as f:
        if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise InputError("not an SQLite rpmdb (bad magic)", path=source)
    uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise InputError(f"cannot open SQLite rpmdb: {exc}", path=source) from exc
    try:
        cursor = conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum")
        for hnum, blob in cursor:
            if not isinstance(blob, bytes):
                raise InputError(f"package {hnum}: blob is not binary", path=source)
            yield int(hnum), blob
    except sqlite3.Error as exc:
        raise InputError(f"bad SQLite rpmdb: {exc}", path=source) from exc
    finally:
        conn.close()
