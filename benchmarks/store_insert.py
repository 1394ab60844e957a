"""Insert throughput of ``Store.insert`` against chDB's own INSERT ... SELECT.

Inserts N rows (default 1,000,000) into ``Files_insert`` (the Null table whose
materialized views fill Files_buffer and FileNames_buffer, as a repository load
does) through ``Store.insert`` in batches, then the same number of rows with
``INSERT INTO Files_insert SELECT ... FROM numbers(N)`` in the same store: the
engine's own speed with no Python at all. Prints rows/s for both and the ratio.

    uv run python benchmarks/store_insert.py [--rows 1000000] [--batch 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from repotrack.store import migrate, open_store

COLUMNS = (
    "pkg_hash", "file_name", "file_linkto", "file_md5", "file_size", "file_mode", "file_rdev",
    "file_mtime", "file_flag", "file_username", "file_groupname", "file_verifyflag",
    "file_device", "file_lang", "file_class",
)  # fmt: skip
MTIME = datetime(2024, 5, 1, tzinfo=UTC)


def rows(count: int) -> Iterator[tuple[Any, ...]]:
    for i in range(count):
        yield (
            1_000_000 + i // 100, f"/usr/share/pkg{i // 100}/file{i}", "",
            (i % 251).to_bytes(1, "little") * 16, i % 65536, 0o100644, 0, MTIME, 0,
            "root", "root", 0, 0, "", "file",
        )  # fmt: skip


BASELINE = """
INSERT INTO Files_insert
SELECT
    1000000 + intDiv(number, 100), concat('/usr/share/pkg', toString(intDiv(number, 100)),
    '/file', toString(number)), '', toFixedString(repeat(char(number % 251), 16), 16),
    number % 65536, 33188, 0, toDateTime('2024-05-01 00:00:00', 'UTC'), 0, 'root', 'root',
    0, 0, '', 'file'
FROM numbers({n:UInt64})
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="repotrack-bench-") as tmp,
        open_store(f"chdb://{Path(tmp) / 'store'}") as store,
    ):
        migrate(store)
        start = time.perf_counter()
        sent = store.insert("Files_insert", COLUMNS, rows(args.rows), batch_rows=args.batch)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        store.command(BASELINE, {"n": args.rows})
        base = time.perf_counter() - start
        (count,) = store.query("SELECT count() FROM Files_buffer")[0]
    print(f"rows per run:                {sent:,} (Files_buffer now holds {count:,})")
    print(f"Store.insert (batch {args.batch:,}): {sent / ours:12,.0f} rows/s  ({ours:.2f} s)")
    print(f"INSERT ... SELECT numbers(): {sent / base:12,.0f} rows/s  ({base:.2f} s)")
    print(f"ratio Store.insert / baseline: {base / ours:.2f}")


if __name__ == "__main__":
    main()
