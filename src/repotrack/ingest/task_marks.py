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
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = [
    "MARKS_FILE",
    "append_marks",
    "marks_file",
    "read_marks",
    "unchanged_line",
    "unchanged_tasks",
]

MARKS_FILE = "repotrack-task-marks"


def unchanged_line(task_id: int) -> str:
    """What a load prints for a task skipped as unchanged."""
    return f"task {task_id}: already loaded, directory unchanged"


def marks_file(store_url: str) -> Path | None:
    """The marks file of the embedded store at ``store_url``; None for a server."""
    if not store_url.startswith("chdb:"):
        return None
    path = unquote(urlsplit(store_url).path)
    return Path(path) / MARKS_FILE if path.startswith("/") else None


def read_marks(path: Path) -> set[tuple[int, int]]:
    """The (task id, fingerprint) pairs in the file; complete, well-formed lines only."""
    try:
        data = path.read_bytes()
    except OSError:
        return set()
    marks = set()
    for line in data.split(b"\n")[:-1]:  # the part after the last newline is unfinished
        task, _, print_ = line.partition(b" ")
        with contextlib.suppress(ValueError):
            marks.add((int(task), int(print_)))
    return marks


def append_marks(path: Path, marks: Iterable[tuple[int, int]]) -> None:
    """Append marks the store already holds, in one write; never fails the load."""
    text = "".join(f"{task} {print_}\n" for task, print_ in marks)
    if not text:
        return
    with contextlib.suppress(OSError):  # the file is a shortcut; the store has the marks
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)


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
    stored = read_marks(file)
    if not stored:
        return None
    ids = []
    for path in paths:
        try:
            mark = (task_id_of(path), fingerprint(path, True, True))
        except (InputError, OSError):
            return None  # the load reports it
        if mark not in stored:
            return None
        ids.append(mark[0])
    return ids
