"""``clean_tasks``: close the tasks girar removed without telling (altrepo §3.5 ``task_cleaner``).

A task whose latest stored state is neither DONE nor DELETED and whose directory is
gone from the tasks tree was deleted in girar: it gets a ``DELETED`` state row, dated
now, with the original's message. A task whose directory holds another state than
the store is listed as unclear (and written to ``unclear_state_tasks.log``, one TSV
line per task: id, stored state, state on disk); loading it again settles it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from repotrack.errors import TaskDataError
from repotrack.ingest import task_rows as tr

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = [
    "DELETED_MESSAGE",
    "UNCLEAR_LOG",
    "CleanResult",
    "clean_tasks",
    "write_unclear_log",
]

DELETED_MESSAGE = "task found as deleted by task_cleaner"
UNCLEAR_LOG = "unclear_state_tasks.log"
#: What a mismatch shows for a state file that holds no state word.
NOT_A_STATE = "(not a task state)"
_STATE = re.compile(r"[A-Z][A-Z_-]*")
_STATE_MAX = 32


@dataclass
class CleanResult:
    """Open tasks checked, those marked deleted, and (id, stored, on disk) mismatches."""

    checked: int = 0
    deleted: list[int] = field(default_factory=list)
    unclear: list[tuple[int, str, str]] = field(default_factory=list)
    dry_run: bool = False

    def line(self) -> str:
        verb = "would mark" if self.dry_run else "marked"
        return (
            f"{self.checked} open task(s) checked, {verb} {len(self.deleted)} deleted, "
            f"{len(self.unclear)} with another state on disk"
        )


def clean_tasks(
    store: Store,
    *,
    tasks_dir: Path,
    task_id: int | None = None,
    dry_run: bool = False,
    unclear_log: Path | None = Path(UNCLEAR_LOG),
    now: datetime | None = None,
) -> CleanResult:
    """Mark open tasks missing from ``tasks_dir`` as DELETED (none with ``dry_run``)."""
    if not Path(tasks_dir).is_dir():
        raise TaskDataError("no such tasks directory", task=task_id or "*", path=str(tasks_dir))
    result = CleanResult(dry_run=dry_run)
    when = (now or datetime.now(UTC)).replace(microsecond=0)
    rows = []
    for tid, state in _open_tasks(store, task_id):
        result.checked += 1
        task_dir = Path(tasks_dir) / str(tid)
        if not task_dir.is_dir():
            result.deleted.append(tid)
            rows.append(_deleted_row(tid, when))
            continue
        state_file = task_dir / "task" / "state"
        on_disk = _disk_state(state_file)
        if on_disk != state:
            result.unclear.append((tid, state, on_disk))
    if rows and not dry_run:
        store.insert(tr.STATES, tr.STATES_COLUMNS, rows)
    if result.unclear and unclear_log is not None:
        write_unclear_log(result.unclear, Path(unclear_log))
    return result


def write_unclear_log(unclear: Sequence[tuple[int, str, str]], path: Path) -> None:
    """``unclear_state_tasks.log``: one TSV line per task, id, stored state, state on disk."""
    with path.open("w", encoding="utf-8") as out:
        for tid, stored, disk in unclear:
            out.write(f"{tid}\t{stored}\t{disk}\n")


def _disk_state(state_file: Path) -> str:
    """The state girar wrote, or ``NOT_A_STATE`` (never a file's bytes: the service
    sends this line back to its caller); "" when there is no state file."""
    if not state_file.is_file():
        return ""
    with state_file.open("rb") as f:
        text = f.read(_STATE_MAX + 1).decode("ascii", errors="replace").strip()
    return text if len(text) <= _STATE_MAX and _STATE.fullmatch(text) else NOT_A_STATE


def _open_tasks(store: Store, task_id: int | None) -> list[tuple[int, str]]:
    rows = store.query(
        "SELECT task_id, argMax(task_state, (task_changed, ts)) AS state FROM TaskStates "
        "WHERE {one:UInt32} = 0 OR task_id = {one:UInt32} GROUP BY task_id "
        "HAVING state NOT IN ('DONE', 'DELETED') ORDER BY task_id",
        {"one": task_id or 0},
    )
    return [(int(t), str(s)) for t, s in rows]


def _deleted_row(task_id: int, when: datetime) -> tuple[object, ...]:
    return (when, task_id, "DELETED", "", [], 0, 0, 0, 0, DELETED_MESSAGE, "", 0, [])
