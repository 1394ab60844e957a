"""``load acl`` (§5.1): append the acl lines that changed since the last stored state.

Order of work, per list file (``list.packages.<branch>``, ``list.groups.<branch>``) of
the listing: read it; read the branch's last state (the ``last_acl`` view: the newest
list per package or group); insert one ``Acl`` row per line whose list differs from
that state, all in one insert, dated with the file's mtime from the listing. The
table is append-only, so a re-run with nothing changed inserts nothing.

The original compared ``mmhash(acl_for || concat(nicks))`` with the line stripped of
blanks; that hash cannot tell ``pkg a bc`` from ``pkg ab c``, so the lists themselves
are compared here (the same rule without the collision).
"""

from __future__ import annotations

from datetime import UTC, datetime

from repotrack.ingest.feeds.result import FeedResult
from repotrack.ingest.feeds.source import FeedSource
from repotrack.sources.feeds import AclLine, acl_list_branch, parse_acl_list
from repotrack.store import Store

__all__ = ["ACL_COLUMNS", "last_acl_state", "load_acl"]

ACL_COLUMNS = ("acl_date", "acl_for", "acl_branch", "acl_list")


def load_acl(
    store: Store, source: FeedSource, *, branches: frozenset[str] | None = None
) -> FeedResult:
    """Load every acl list file found at ``source`` (only ``branches`` when given)."""
    result = FeedResult("acl")
    files = [
        (entry, branch)
        for entry in source.listing()
        if (branch := acl_list_branch(entry.name)) is not None
        and (branches is None or branch in branches)
    ]
    if not files:
        result.note = f"no list.packages.* or list.groups.* files at {source.where()}"
    for entry, branch in files:
        document = source.document(entry.name)
        if document is None:
            continue
        parsed = parse_acl_list(document.text(), source=source.where(entry.name))
        result.add_problems(parsed.problems)
        when = entry.mtime or document.last_modified or datetime.now(UTC).replace(microsecond=0)
        result.rows += _insert_changed(store, branch, when, parsed.records)
    return result


def last_acl_state(store: Store, branch: str) -> dict[str, tuple[str, ...]]:
    """The newest list of every package and group of ``branch``."""
    rows = store.query(
        "SELECT acl_for, acl_list FROM last_acl WHERE acl_branch = {b:String}", {"b": branch}
    )
    return {name: tuple(members) for name, members in rows}


def _insert_changed(store: Store, branch: str, when: datetime, lines: list[AclLine]) -> int:
    state = last_acl_state(store, branch)
    latest = {line.acl_for: line.members for line in lines}  # a repeated name: last line wins
    rows = [
        (when, name, branch, list(members))
        for name, members in latest.items()
        if state.get(name) != members
    ]
    if rows:
        store.insert("Acl", ACL_COLUMNS, rows)
    return len(rows)
