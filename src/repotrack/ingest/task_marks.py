"""Task load marks beside the embedded store: answer an unchanged reload without opening it.

Why: a reload of tasks girar has not touched must add nothing, and ``load_tasks``
already skips each such directory after one store query (its fingerprint is in
``TaskLoadMarks``). But that query needs the store open, and starting chDB (import,
connect, schema check) costs several times what fingerprinting 200 task
directories does, so a reload of 200 unchanged tasks cost 27-34% of their first
load, nearly all of it process start-up and store open.

So every mark written to ``TaskLoadMarks`` of an embedded store is also appended to
``repotrack-task-marks`` in the store's directory (one ``<task id> <fingerprint>``
line each), after the store has the row. The CLI reads that file first: when every
task it was given has a mark there for its current fingerprint, each is reported as
``already loaded, directory unchanged`` without starting the store. Otherwise, or
with ``--force`` or ``--flush-buffers``, the load runs as before and the store's
marks decide.

Why that is safe: a line is appended only after the ``TaskLoadMarks`` row it copies
is stored (and marks are never deleted), so the file never claims a mark the store
lacks. It lives in the store's own directory, so removing, replacing or restoring
the store takes the file along. A partly written last line (a writer killed, or one
appending while this reads) is ignored. A mark the store has and the file lacks (a
store loaded before this file existed, or a failed append) is copied into the file
the next time ``load_tasks`` finds it, so the file catches up. A ClickHouse server
has no such file: several machines may load into it.

The file grows by a line each time a task changes. Once it is over ``COMPACT_MIN``
bytes and twice its size after the last compaction (its ``#compacted N`` first line),
the writer, which holds the store, rewrites it with the last mark of each task only
(a new file renamed over the old one, so a reader sees one or the other). A task
whose directory came back to an earlier fingerprint then misses the file and is
answered by the store, as before.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from repotrack.errors import InputError
from repotrack.store.urls import chdb_path

__all__ = [
    "MARKS_FILE",
    "append_marks",
    "marks_file",
    "read_marks",
    "unchanged_line",
    "unchanged_tasks",
]

MARKS_FILE = "repotrack-task-marks"
#: Below this size the file is never rewritten.
COMPACT_MIN = 1 << 20
_HEADER = b"#compacted "


def unchanged_line(task_id: int) -> str:
    """What a load prints for a task skipped as unchanged."""
    return f"task {task_id}: already loaded, directory unchanged"


def marks_file(store_url: str) -> Path | None:
    """The marks file of the embedded store at ``store_url``; None for a server."""
    if not store_url.startswith("chdb:"):
        return None
    try:
        return chdb_path(store_url) / MARKS_FILE
    except InputError:
        return None


def _lines(path: Path) -> list[bytes]:
    """The complete lines (the part after the last newline is unfinished)."""
    try:
        return path.read_bytes().split(b"\n")[:-1]
    except OSError:
        return []


def _parse(lines: Iterable[bytes]) -> Iterable[tuple[int, int]]:
    for line in lines:
        task, _, print_ = line.partition(b" ")
        with contextlib.suppress(ValueError):
            yield int(task), int(print_)


def read_marks(path: Path) -> set[tuple[int, int]]:
    """The (task id, fingerprint) pairs in the file; complete, well-formed lines only."""
    return set(_parse(_lines(path)))


def append_marks(path: Path, marks: Iterable[tuple[int, int]]) -> None:
    """Append marks the store already holds, in one write; never fails the load.

    Only a process holding the store calls this (it has just stored the marks), so
    there is one writer at a time, which may also compact the file.
    """
    text = "".join(f"{task} {print_}\n" for task, print_ in marks)
    if not text:
        return
    with contextlib.suppress(OSError):  # the file is a shortcut; the store has the marks
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, text.encode())
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size >= COMPACT_MIN:
            _compact(path, size)


def _compact(path: Path, size: int) -> None:
    """Rewrite the file with each task's last mark, once it has doubled since the last time."""
    with path.open("rb") as f:
        head = f.readline(64)
    if head.startswith(_HEADER):
        with contextlib.suppress(ValueError):
            if size < 2 * int(head[len(_HEADER) :]):
                return
    latest = dict(_parse(_lines(path)))  # later lines win
    body = "".join(f"{task} {print_}\n" for task, print_ in latest.items()).encode()
    new = path.with_name(path.name + ".new")
    with new.open("wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(_HEADER + b"%d\n" % len(body) + body)
    new.replace(path)


def unchanged_tasks(store_url: str, paths: Sequence[Path]) -> list[int] | None:
    """The task ids of ``paths`` when every one is recorded unchanged, else None.

    Uses the fingerprint ``load_tasks`` records with its defaults (approvals and the
    logs of new tasks loaded), so it answers only for loads made with those.
    """
    from repotrack.errors import InputError
    from repotrack.sources.task.stamp import fingerprint, task_id_of

    file = marks_file(store_url)
    if file is None or not paths:
        return None
    stored = set(_lines(file))  # compared as text: no need to parse every line
    if not stored:
        return None
    ids = []
    for path in paths:
        try:
            task_id, print_ = task_id_of(path), fingerprint(path, True, True)
        except (InputError, OSError):
            return None  # the load reports it
        if b"%d %d" % (task_id, print_) not in stored:
            return None
        ids.append(task_id)
    return ids
