"""The file-provides patch (altrepo §3.4 step 9), done for the packages just stored only.

rpm lets a package require a file path (``Requires: /usr/bin/foo``) that no package
lists among its provides; ALTRepo then adds a synthetic ``provide`` of that path to
every package that holds the file, so that dependency queries resolve it. The
original ran that over the whole database after every task. Here the work is bound
to the new packages: their own file requires (answered by any stored package holding
the path), and requires of any stored package that the new packages' files answer.
In both cases only paths nobody provides get a row, as in the original.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from repotrack.ingest import tables

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = ["patch_file_provides"]

_UNPROVIDED = """
SELECT DISTINCT dp_name FROM Depends_buffer
WHERE dp_type = 'require' AND startsWith(dp_name, '/')
  AND {where}
  AND dp_name NOT IN (SELECT dp_name FROM Depends_buffer WHERE dp_type = 'provide'
                      AND startsWith(dp_name, '/'))
"""

_OWNERS = """
SELECT DISTINCT F.pkg_hash, N.fn_name
FROM Files_buffer AS F
INNER JOIN (SELECT DISTINCT fn_name, fn_hash FROM FileNames_buffer
            WHERE fn_name IN {paths:Array(String)}) AS N ON N.fn_hash = F.file_hashname
WHERE F.file_hashname IN (SELECT murmurHash3_64(p) FROM
                          (SELECT arrayJoin({paths:Array(String)}) AS p))
"""


def patch_file_provides(store: Store, new: Sequence[int]) -> int:
    """Add synthetic file provides touching the packages ``new``; return the rows added."""
    if not new:
        return 0
    params = {"new": list(new)}
    own = store.query(_UNPROVIDED.replace("{where}", "pkg_hash IN {new:Array(UInt64)}"), params)
    theirs = store.query(
        _UNPROVIDED.replace(
            "{where}",
            "murmurHash3_64(dp_name) IN (SELECT file_hashname FROM Files_buffer "
            "WHERE pkg_hash IN {new:Array(UInt64)})",
        ),
        params,
    )
    paths = sorted({r[0] for r in own} | {r[0] for r in theirs})
    if not paths:
        return 0
    owners = store.query(_OWNERS, {"paths": paths})
    rows = [(int(pkg), path, "", 0, "provide") for pkg, path in owners]
    if rows:
        # One statement, all or nothing: a path once provided is skipped by the next
        # patch, so a patch cut between two statements would leave the holders in the
        # second without their row for good.
        store.insert(tables.DEPENDS, tables.DEPENDS_COLUMNS, rows, batch_rows=len(rows))
    return len(rows)
