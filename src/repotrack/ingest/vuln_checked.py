"""ALT's manual CVE checks → ``CveChecked`` (``repotrack load vulns cvechecked``).

The table is ALTRepo's (reference/altrepo.md §1.7), a plain MergeTree: a row read again
would be stored twice, so a row whose every column equals a stored row's adds nothing
(loading altrepodb's ``CveChecked-initial.json`` twice stores its 134 rows once). A
changed decision is a new row; the matcher takes the newest check of a pair
(``security.checked``). ``ts`` (migration 0015) tells the next incremental rematch which
CVEs to look at again.
"""

from __future__ import annotations

from typing import Any, Final

from repotrack.ingest.vulns import VulnLoadSummary
from repotrack.sources.vulns.cve_checked import CveCheck
from repotrack.store.base import Store

__all__ = ["CC_COLUMNS", "write_checks"]

CC_COLUMNS: Final = (
    "cve_id",
    "pkg_name",
    "cc_status",
    "cc_checkdate",
    "cc_description",
    "cc_description_ru",
    "cc_checked_ver.pkg_evr",
    "cc_checked_ver.pkg_branch",
)


def write_checks(store: Store, items: list[Any], summary: VulnLoadSummary) -> None:
    """Write the rows of one batch (``items``: ``CveCheck``) that the table lacks."""
    rows = {_row(check): None for check in items}  # a row repeated in the batch: once
    summary.unchanged += len(items) - len(rows)
    stored = _stored(store, sorted({check.cve_id for check in items}))
    fresh = [row for row in rows if row not in stored]
    summary.unchanged += len(rows) - len(fresh)
    if fresh:
        store.insert("CveChecked", CC_COLUMNS, [[*r[:6], list(r[6]), list(r[7])] for r in fresh])
        summary.written += len(fresh)


def _row(check: CveCheck) -> tuple[Any, ...]:
    return (
        check.cve_id,
        check.pkg_name,
        check.status,
        check.checked,
        check.description,
        check.description_ru,
        tuple(evr for evr, _ in check.versions),
        tuple(branch for _, branch in check.versions),
    )


def _stored(store: Store, ids: list[str]) -> set[tuple[Any, ...]]:
    found = store.query(
        f"SELECT {', '.join(f'`{c}`' for c in CC_COLUMNS)} FROM CveChecked "  # noqa: S608
        "WHERE cve_id IN {ids:Array(String)}",
        {"ids": ids},
    )
    return {(*row[:3], _naive(row[3]), *row[4:6], tuple(row[6]), tuple(row[7])) for row in found}


def _naive(when: Any) -> Any:
    return when.replace(tzinfo=None) if getattr(when, "tzinfo", None) else when
