"""Which packages the store already holds, and whether a snapshot was loaded before.

A package counts as stored once its ``PackageHash`` row exists: that row is written
after all the package's other rows, so its presence means they are there too. The
lookups go by whatever identifies a package before reading it: the MD5 or SHA-256 an
index recorded, or the ``pkg_hash`` computed from the header (or from metadata).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from repotrack.errors import ConflictError
from repotrack.ingest.pkgset import snapshot_datetime

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = [
    "Known",
    "already_loaded",
    "check_not_loaded",
    "known_by_digest",
    "known_hashes",
    "stored_sha256",
]

#: Values per lookup query; keeps each query's parameter text small.
LOOKUP_CHUNK = 2000

Known = tuple[int, bytes]  # pkg_hash, SHA1HEADER


def already_loaded(store: Store, *, branch: str, day: date) -> int:
    """How many roots named ``branch`` exist for ``day``."""
    rows = store.query(
        "SELECT count() FROM PackageSetName WHERE pkgset_depth = 0 "
        "AND pkgset_nodename = {name:String} AND pkgset_date = {day:DateTime}",
        {"name": branch, "day": snapshot_datetime(day)},
    )
    return int(rows[0][0]) if rows else 0


def check_not_loaded(store: Store, *, branch: str, day: date) -> None:
    if already_loaded(store, branch=branch, day=day):
        raise ConflictError(
            f"{branch} {day.isoformat()} is already loaded (use --force to load it again)"
        )


def known_by_digest(store: Store, column: str, digests: Iterable[bytes]) -> dict[bytes, Known]:
    """``{digest: (pkg_hash, sha1)}`` for the digests (``pkgh_md5``/``pkgh_sha256``) stored."""
    if column not in ("pkgh_md5", "pkgh_sha256"):
        raise ValueError(column)
    wanted = sorted({d.hex().upper() for d in digests if d and any(d)})
    found: dict[bytes, Known] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows = store.query(
            f"SELECT hex({column}), any(pkgh_mmh), any(pkgh_sha1) FROM PackageHash_buffer "  # noqa: S608
            f"WHERE hex({column}) IN {{d:Array(String)}} GROUP BY {column}",
            {"d": chunk},
        )
        for digest, pkg_hash, sha1 in rows:
            found[bytes.fromhex(digest)] = (int(pkg_hash), bytes(sha1))
    return found


def known_hashes(store: Store, hashes: Iterable[int]) -> set[int]:
    """The subset of ``hashes`` with a ``PackageHash`` row."""
    wanted = sorted(set(hashes))
    found: set[int] = set()
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows = store.query(
            "SELECT DISTINCT pkgh_mmh FROM PackageHash_buffer WHERE pkgh_mmh IN {h:Array(UInt64)}",
            {"h": chunk},
        )
        found.update(int(r[0]) for r in rows)
    return found


def stored_sha256(store: Store, hashes: Iterable[int]) -> dict[int, bytes]:
    """``{pkg_hash: SHA-256 of the stored file}`` (``b""`` rows, from metadata, left out)."""
    wanted = sorted(set(hashes))
    found: dict[int, bytes] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        rows = store.query(
            "SELECT pkgh_mmh, any(pkgh_sha256) FROM PackageHash_buffer "
            "WHERE pkgh_mmh IN {h:Array(UInt64)} AND pkgh_sha256 != repeat('\\0', 32) "
            "GROUP BY pkgh_mmh",
            {"h": wanted[start : start + LOOKUP_CHUNK]},
        )
        found.update((int(h), bytes(d)) for h, d in rows)
    return found
