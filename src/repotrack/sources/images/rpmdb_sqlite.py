"""rpm >= 4.16's SQLite rpmdb (``rpmdb.sqlite``): the ``Packages`` table of (hnum, blob).

rpm keeps the database in WAL mode: changes since the last checkpoint live in
``rpmdb.sqlite-wal`` beside it, and an image may well be built without a final
checkpoint. The loaders copy that file too (as ``<copy>-wal``); when it is there and
not empty the copy is opened read-only (``mode=ro``, SQLite then reads the WAL,
writing only its index beside the copy, in the loader's work directory), otherwise
read-only and immutable (``immutable=1``: no journal, lock or index file at all).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from repotrack.errors import InputError

__all__ = ["SQLITE_MAGIC", "WAL_SUFFIX", "iter_sqlite_blobs"]

#: The write-ahead log beside an SQLite database.
WAL_SUFFIX = "-wal"

SQLITE_MAGIC = b"SQLite format 3\0"


def iter_sqlite_blobs(path: Path, *, source: str) -> Iterator[tuple[int, bytes]]:
    """``(hnum, header blob)`` of every row of ``Packages``, in hnum order."""
    with path.open("rb") as f:
        if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise InputError("not an SQLite rpmdb (bad magic)", path=source)
    wal = path.with_name(path.name + WAL_SUFFIX)
    has_wal = wal.is_file() and wal.stat().st_size > 0
    uri = f"file:{quote(str(path))}?mode=ro" + ("" if has_wal else "&immutable=1")
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
