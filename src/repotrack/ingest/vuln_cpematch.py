"""NVD CPE match feed → ``CpeMatchStrings`` (``repotrack load vulns cpematch``).

One row per match criteria (``matchCriteriaId``) whose content changed: a re-read entry
(same hash of its source JSON as the current row) adds nothing, a changed one adds a row
that replaces it (``argMax(mcs_hash, ts)`` per id), an entry repeated in one batch keeps
its newest modification. NVD's ``Inactive`` criteria are kept with ``mcs_active = 0``.

What reads it: ``CpeMatch.cpm_match_criteria_id`` (filled from NVD records) joins a
CVE's range to the concrete CPE names NVD lists for it, and the mapping check
(``security.mapping.check_mappings``) uses the criteria's products to tell mappings that
name a product NVD knows from ones that can never match.
"""

from __future__ import annotations

from typing import Any, Final

from repotrack.ingest.vulns import VulnLoadSummary
from repotrack.sources.vulns.cpe_match import MatchString
from repotrack.store.base import Store

__all__ = ["MCS_COLUMNS", "write_match_strings"]

MCS_COLUMNS: Final = (
    "mcs_id",
    "mcs_hash",
    "mcs_criteria",
    "mcs_vendor",
    "mcs_product",
    "mcs_target_sw",
    "mcs_version_start",
    "mcs_version_end",
    "mcs_version_start_excluded",
    "mcs_version_end_excluded",
    "mcs_active",
    "mcs_created",
    "mcs_modified",
    "mcs_cpe_names",
    "mcs_json",
)


def write_match_strings(store: Store, items: list[Any], summary: VulnLoadSummary) -> None:
    """Write the changed match strings of one batch (``items``: ``MatchString``)."""
    latest: dict[str, MatchString] = {}
    for item in items:
        seen = latest.get(item.match_id)
        if seen is None or item.modified >= seen.modified:
            latest[item.match_id] = item
    summary.unchanged += len(items) - len(latest)
    current = _current_hashes(store, list(latest))
    fresh = [m for m in latest.values() if current.get(m.match_id) != m.content_hash]
    summary.unchanged += len(latest) - len(fresh)
    if not fresh:
        return
    store.insert("CpeMatchStrings", MCS_COLUMNS, [_row(m) for m in fresh])
    summary.written += len(fresh)
    summary.rejected += sum(1 for m in fresh if not m.active)


def _current_hashes(store: Store, ids: list[str]) -> dict[str, int]:
    rows = store.query(
        "SELECT mcs_id, argMax(mcs_hash, ts) FROM CpeMatchStrings "
        "WHERE mcs_id IN {ids:Array(String)} GROUP BY mcs_id",
        {"ids": ids},
    )
    return {str(i): int(h) for i, h in rows}


def _row(m: MatchString) -> tuple[Any, ...]:
    return (
        m.match_id,
        m.content_hash,
        m.criteria,
        m.cpe.vendor,
        m.cpe.product,
        m.cpe.target_sw,
        m.start,
        m.end,
        m.start_excluded,
        m.end_excluded,
        int(m.active),
        m.created,
        m.modified,
        list(m.names),
        m.raw,
    )
