"""Import the original patch-tracking's ``db.sqlite`` (its ``tracking`` and ``issue`` tables).

The original kept its items in a SQLite file (reference ``patch_tracking.md`` §3):
``tracking`` keyed by (repo, branch) with an ``id`` that is always NULL, ``enabled``
as 0/1 (or NULL, which its scheduler never selected), and ``issue`` rows tied to an
item only by repo and branch. Moving to repotrack means carrying those rows over.

Rules, so that the import can be run again at any time:

- The file is opened read-only; it must hold both tables with the original's columns,
  else one ``InputError`` names the file and what is missing.
- An item whose (repo, branch) already exists here is left as it is (repotrack may
  have tracked it further since); a new one is validated like any POST and added.
  A row that fails validation is reported with the field at fault, never imported.
- An issue row is added unless the same issue number is already recorded for that
  repo; it is linked to its item when one exists.
- Everything is written in the caller's one transaction: an interrupted import leaves
  nothing half done, and a second run adds nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from repotrack.errors import InputError
from repotrack.state.models import Issue, Tracking
from repotrack.state.tracking_items import ITEM_FIELDS, check_item_fields

__all__ = ["LegacyImport", "import_legacy_db"]

_ISSUE_COLUMNS = ("issue", "repo", "branch")


@dataclass
class LegacyImport:
    """What an import did; ``refused`` holds one line per row that was not imported."""

    items_added: int = 0
    items_present: int = 0
    issues_added: int = 0
    issues_present: int = 0
    refused: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"tracking: {self.items_added} imported, {self.items_present} already present, "
            f"{self._refused('tracking')} refused; issue: {self.issues_added} imported, "
            f"{self.issues_present} already present, {self._refused('issue')} refused"
        )

    def _refused(self, table: str) -> int:
        return sum(1 for line in self.refused if line.startswith(f"{table} "))


def import_legacy_db(session: Session, path: Path) -> LegacyImport:
    """Copy the original's items and issues at ``path`` into the state database."""
    tracking_rows, issue_rows = _read(path)
    result = LegacyImport()
    items = {(item.repo, item.branch): item for item in session.scalars(select(Tracking))}
    for row in tracking_rows:
        _import_item(session, row, items, result)
    known = {(issue.repo, issue.issue) for issue in session.scalars(select(Issue))}
    for row in issue_rows:
        _import_issue(session, row, items, known, result)
    session.flush()
    return result


def _read(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if not path.is_file():
        raise InputError("no such file", path=str(path))
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InputError(f"cannot open as SQLite: {exc}", path=str(path)) from exc
    try:
        conn.row_factory = sqlite3.Row
        tracking = _rows(conn, path, "tracking", ITEM_FIELDS)
        issues = _rows(conn, path, "issue", _ISSUE_COLUMNS)
    finally:
        conn.close()
    return tracking, issues


def _rows(
    conn: sqlite3.Connection, path: Path, table: str, columns: tuple[str, ...]
) -> list[dict[str, Any]]:
    try:
        present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
        if not present:
            raise InputError(f"no {table!r} table: not a patch-tracking database", path=str(path))
        missing = [name for name in columns if name not in present]
        if missing:
            raise InputError(
                f"table {table!r} lacks column {missing[0]!r}: not a patch-tracking database",
                path=str(path),
            )
        # Table and column names are the constants above, never input.
        query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid"  # noqa: S608
        return [dict(row) for row in conn.execute(query)]
    except sqlite3.DatabaseError as exc:
        raise InputError(f"not a readable SQLite database ({exc})", path=str(path)) from exc


def _import_item(
    session: Session,
    row: dict[str, Any],
    items: dict[tuple[Any, Any], Tracking],
    result: LegacyImport,
) -> None:
    key = (row["repo"], row["branch"])
    if key in items:
        result.items_present += 1
        return
    # NULL was never tracked by the original (its scan selected enabled == 1 only).
    fields = {**row, "enabled": row["enabled"] == 1}
    try:
        clean = check_item_fields(fields)
    except InputError as exc:
        result.refused.append(f"tracking {row['repo']} {row['branch']}: {exc}")
        return
    item = Tracking(**{name: clean.get(name) for name in ITEM_FIELDS})
    session.add(item)
    items[key] = item
    result.items_added += 1


def _import_issue(
    session: Session,
    row: dict[str, Any],
    items: dict[tuple[Any, Any], Tracking],
    known: set[tuple[Any, Any]],
    result: LegacyImport,
) -> None:
    number = row["issue"]
    if not isinstance(number, str) or not number.strip() or len(number) > 255:
        result.refused.append(f"issue {row['repo']} {row['branch']}: issue: not an issue number")
        return
    if (row["repo"], number) in known:
        result.issues_present += 1
        return
    item = items.get((row["repo"], row["branch"]))
    session.add(Issue(issue=number, repo=row["repo"], branch=row["branch"], tracking=item))
    known.add((row["repo"], number))
    result.issues_added += 1
