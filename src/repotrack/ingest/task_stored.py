"""What the store already holds of a batch of tasks, fetched in a few queries, and the diff.

A reload must write nothing and an advance exactly what changed, so every row a task
would add is compared with the stored ones first. Asking per task and per table
costs a round trip each (eight per task); for a batch of tasks the same questions
are asked once per table, keyed by the batch's task ids, plan hashes and log hashes.
Comparison is on whole rows (Python values as ``Store.query`` returns them), so a
changed value is a new row, as ALTRepo's ReplacingMergeTree tables expect.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from repotrack.ingest import task_rows as tr
from repotrack.sources.task import TaskRecord

if TYPE_CHECKING:
    from datetime import datetime

    from repotrack.store import Store

__all__ = ["StoredTasks"]

Row = tuple[Any, ...]
#: (subtask, type, name) -> (revoked, date, message) of the newest stored approval row.
Approvals = dict[tuple[int, str, str], tuple[int, "datetime", str]]

_BY_TASK = {
    tr.TASKS: tr.TASKS_COLUMNS,
    tr.ITERATIONS: tr.ITERATIONS_COLUMNS,
    tr.STATES: tr.STATES_COLUMNS,
}


class StoredTasks:
    """Stored rows of the batch's tasks; ``new(table, rows)`` keeps the ones not stored."""

    def __init__(self, store: Store, tasks: Sequence[TaskRecord]) -> None:
        self._store = store
        ids = sorted({t.task_id for t in tasks})
        self._seen: dict[str, set[Row]] = defaultdict(set)
        for table, columns in _BY_TASK.items():
            self._fetch(table, columns, "task_id IN {k:Array(UInt32)}", ids)
        plan_keys = sorted({r[0] for t in tasks for rows in tr.plan_rows(t) for r in rows})
        for table, columns in (
            (tr.PLAN_PACKAGES, tr.PLAN_PACKAGES_COLUMNS),
            (tr.PLAN_HASHES, tr.PLAN_HASHES_COLUMNS),
        ):
            self._fetch(table, columns, "tplan_hash IN {k:Array(UInt64)}", plan_keys)
        self.log_lines = self._log_lines(tasks)
        self.approvals = self._approvals(ids)

    def new(self, table: str, rows: Iterable[Row]) -> list[Row]:
        """Rows neither stored nor already kept for this batch."""
        seen = self._seen[table]
        fresh = []
        for row in rows:
            key = _key(row)
            if key not in seen:
                seen.add(key)
                fresh.append(row)
        return fresh

    def _fetch(self, table: str, columns: Sequence[str], where: str, keys: list[int]) -> None:
        if not keys:
            return
        rows = self._store.query(
            f"SELECT {', '.join(columns)} FROM {table} WHERE {where}",  # noqa: S608 - fixed names
            {"k": keys},
        )
        self._seen[table].update(_key(r) for r in rows)

    def _log_lines(self, tasks: Sequence[TaskRecord]) -> dict[int, int]:
        """Lines stored per log hash (logs only grow: the rest is new)."""
        hashes = sorted({tr.log_hash(lg) for t in tasks for lg in t.logs()})
        if not hashes:
            return {}
        rows = self._store.query(
            "SELECT tlog_hash, max(tlog_line) FROM TaskLogs "
            "WHERE tlog_hash IN {h:Array(UInt64)} GROUP BY tlog_hash",
            {"h": hashes},
        )
        return {int(h): int(n) for h, n in rows}

    def _approvals(self, ids: list[int]) -> dict[int, Approvals]:
        rows = self._store.query(
            "SELECT task_id, subtask_id, toString(tapp_type), tapp_name, "
            "argMax(tuple(tapp_revoked, tapp_date, tapp_message), "
            "tuple(ts, tapp_date, tapp_revoked)) FROM TaskApprovals "
            "WHERE task_id IN {k:Array(UInt32)} "
            "GROUP BY task_id, subtask_id, tapp_type, tapp_name",
            {"k": ids},
        )
        found: dict[int, Approvals] = defaultdict(dict)
        for task, sub, kind, name, last in rows:
            found[int(task)][(int(sub), kind, name)] = (int(last[0]), last[1], last[2])
        return found

    def chroot_hashes(
        self, tasks: Sequence[TaskRecord]
    ) -> tuple[dict[tuple[int, ...], int], list[Row]]:
        """Hash of every chroot list (ClickHouse's array hash, §0.4) and the lists to store."""
        arrays = sorted(
            {a for t in tasks for it in t.iterations for a in (it.chroot_base, it.chroot_br) if a}
        )
        if not arrays:
            return {}, []
        ((hashes,),) = self._store.query(
            "SELECT arrayMap(a -> murmurHash3_64(a), {a:Array(Array(UInt64))})",
            {"a": [list(a) for a in arrays]},
        )
        found = dict(zip(arrays, (int(h) for h in hashes), strict=True))
        stored = {
            int(r[0])
            for r in self._store.query(
                "SELECT DISTINCT tch_hash FROM TaskChroots WHERE tch_hash IN {h:Array(UInt64)}",
                {"h": sorted(set(found.values()))},
            )
        }
        return found, [(list(a),) for a, h in found.items() if h not in stored]


def _key(row: Sequence[Any]) -> Row:
    return tuple(tuple(v) if isinstance(v, list) else v for v in row)
