"""``load bugzilla`` (§5.3): insert the bugs whose 13 exported fields changed.

The CSV export is compared with each bug's last stored state
(``argMax(tuple(...), ts)`` per ``bz_id``); new or changed bugs get one row each, in
one insert. The export has no full logins, so ``bz_assignee_full`` and
``bz_reporter_full`` stay empty (rows from the message handler fill them).
"""

from __future__ import annotations

from repotrack.errors import InputError
from repotrack.ingest.feeds.result import FeedResult
from repotrack.ingest.feeds.source import FeedSource
from repotrack.sources.feeds import BUGZILLA_COLUMNS, Bug, parse_bug_csv
from repotrack.store import Store

__all__ = ["BUG_COLUMNS", "BUG_QUERY", "insert_bugs", "last_bug_states", "load_bugzilla"]

#: The 13 compared columns, in ``Bug`` field order.
BUG_COLUMNS = (
    "bz_id",
    "bz_status",
    "bz_resolution",
    "bz_severity",
    "bz_priority",
    "bz_product",
    "bz_version",
    "bz_platform",
    "bz_component",
    "bz_assignee",
    "bz_reporter",
    "bz_summary",
    "bz_last_changed",
)

_LAST_STATES = """
    SELECT bz_id, argMax(tuple(bz_id, bz_status, bz_resolution, bz_severity, bz_priority,
        bz_product, bz_version, bz_platform, bz_component, bz_assignee, bz_reporter,
        bz_summary, bz_last_changed), ts)
    FROM Bugzilla WHERE bz_id IN {ids:Array(UInt32)} GROUP BY bz_id
"""

#: The query string of ``buglist.cgi`` that exports every bug as CSV.
BUG_QUERY = {
    "limit": "0",
    "query_format": "advanced",
    "ctype": "csv",
    "human": "1",
    "columnlist": ",".join(BUGZILLA_COLUMNS),
}


def load_bugzilla(store: Store, source: FeedSource) -> FeedResult:
    result = FeedResult("bugzilla")
    document = source.document(params=None if source.local else BUG_QUERY)
    if document is None:
        result.note = "not modified"
        return result
    parsed = parse_bug_csv(document.text(), source=source.where(), zone=source.zone)
    if parsed.problems and not parsed.records:
        raise InputError(
            f"not a Bugzilla CSV export: no row could be read ({parsed.problems[0].message})",
            path=source.where(),
        )
    result.add_problems(parsed.problems)
    latest = {bug.bz_id: bug for bug in parsed.records}  # a repeated id: the last row wins
    state = last_bug_states(store, list(latest))
    changed = [bug for bug_id, bug in latest.items() if state.get(bug_id) != bug.key()]
    result.rows = insert_bugs(store, [(bug, "", "") for bug in changed])
    return result


def last_bug_states(store: Store, ids: list[int]) -> dict[int, tuple[object, ...]]:
    """The last stored 13-field tuple of each bug in ``ids``."""
    if not ids:
        return {}
    rows = store.query(_LAST_STATES, {"ids": ids})
    return {int(bug_id): tuple(state) for bug_id, state in rows}


def insert_bugs(store: Store, bugs: list[tuple[Bug, str, str]]) -> int:
    """Insert (bug, assignee login, reporter login) rows; return how many."""
    if not bugs:
        return 0
    columns = (*BUG_COLUMNS, "bz_assignee_full", "bz_reporter_full")
    return store.insert("Bugzilla", columns, [(*bug.key(), a, r) for bug, a, r in bugs])
