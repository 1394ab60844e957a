"""Run the ``repotrack`` CLI and SIGKILL it right after its N-th write to the store.

    python crashing_cli.py <N> <log file> repotrack-arguments...

Every statement that changes the store counts as a write: each insert block and each
DELETE or DDL command. ``N = 0`` never kills and only logs the writes (one line per
write: ``insert <table>`` or ``command <first words>``), which tells a test how many
stage boundaries a load has. Writes from two threads (a load's last batch is written
beside the one before it) are counted one at a time. Batches are made small
(``BATCH_ROWS``) so that a load of a few dozen packages runs through several of them,
and a vulnerability load writes ``VULN_BATCH`` records at a time. With
``CRASH_INSERT_ROWS`` in the environment, every ``Store.insert`` sends its rows in
statements of that many rows (100 000 otherwise), so that a small input shows what a
large one does: an insert of many rows is several statements, and a kill can fall
between them.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

BATCH_ROWS = 1500
VULN_BATCH = 4


def main() -> None:
    after, log_path, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    from repotrack.ingest import batch, vulns
    from repotrack.store import chdb_backend

    defaults = batch.RowBatcher.__init__.__kwdefaults__
    assert defaults is not None
    defaults["max_rows"] = BATCH_ROWS
    vuln_defaults = vulns.load_vulns.__kwdefaults__
    assert vuln_defaults is not None
    vuln_defaults["batch"] = VULN_BATCH
    if "CRASH_INSERT_ROWS" in os.environ:
        insert_defaults = chdb_backend.ChdbStore.insert.__kwdefaults__
        assert insert_defaults is not None
        insert_defaults["batch_rows"] = int(os.environ["CRASH_INSERT_ROWS"])
    count = 0
    log = Path(log_path).open("a", encoding="utf-8")  # noqa: SIM115 - lives as long as the process

    lock = threading.Lock()  # a load's last batch and the one before it write at once

    def counted(what: str) -> None:
        nonlocal count
        with lock:
            count += 1
            log.write(what + "\n")
            log.flush()
            if count == after:
                os.kill(os.getpid(), signal.SIGKILL)

    send, command = chdb_backend.ChdbStore._send, chdb_backend.ChdbStore.command

    def send_and_count(self: Any, head: str, payload: bytes, **options: Any) -> None:
        send(self, head, payload, **options)
        counted("insert " + head.split("`")[1])

    def command_and_count(self: Any, sql: str, params: Any = None) -> None:
        command(self, sql, params)
        counted("command " + " ".join(sql.split()[:3]))

    chdb_backend.ChdbStore._send = send_and_count  # type: ignore[method-assign]
    chdb_backend.ChdbStore.command = command_and_count  # type: ignore[method-assign]
    from repotrack.cli.main import main as repotrack

    sys.argv = ["repotrack", *args]
    repotrack()


if __name__ == "__main__":
    main()
