"""The ALTRepo API's vulnerability list tells the CVEs that touch a branch's packages.

``get_vuln_list`` (quoted from liannnix/altrepoapi, ``altrepo_api/api/management/sql.py``,
as a compatibility fixture; its clause placeholders left empty) marks a vulnerability
``our`` when one of its ``CpeMatch`` rows is the range of a ``PackagesCveMatch`` row:
it joins ``CpeMatch.cpe_hash`` with ``PackagesCveMatch.cpm_cpe_hash``. Its users filter
on ``our = 1`` and ``our = 0``, which tells only with ``join_use_nulls = 1`` (the
server profile the API runs with must set it: with ClickHouse's default an unmatched
row is 0, not NULL, and every vulnerability would be ``our``), so the test sets it.
"""

from __future__ import annotations

import json
from pathlib import Path

from repotrack.ingest.vulns import load_vulns
from repotrack.security import rematch_branch
from repotrack.store import Store
from tests.unit.security.world import BRANCH, RECORDS, SYNTHETIC, build_world

GET_VULN_LIST = """
SELECT
    vuln_id AS id,
    severity,
    status,
    resolution,
    summary,
    modified,
    published,
    errata_ids,
    cpes,
    our,
    rejected,
    count() OVER () AS total_count
FROM (
    SELECT
        vulns.vuln_id,
        argMax(vulns.vuln_severity, vulns.ts) AS severity,
        argMax(vs.vs_status, vs.ts) AS status,
        argMax(vs.vs_resolution, vs.ts) AS resolution,
        argMax(vulns.vuln_summary, vulns.ts) AS summary,
        argMax(vulns.vuln_modified_date, vulns.ts) AS modified,
        argMax(vulns.vuln_published_date, vulns.ts) AS published,
        argMax(vulns.vuln_rejected, vulns.ts) AS rejected
    FROM Vulnerabilities AS vulns
    LEFT JOIN VulnerabilityStatus AS vs ON vulns.vuln_id = vs.vuln_id
    {where_vuln_input}
    GROUP BY vulns.vuln_id
    {having_vulns}
) AS base_vulns
LEFT JOIN (
    SELECT
        cm.vuln_id as vuln_id,
        arrayFilter(
            t -> t.1 != '' AND t.1 IS NOT NULL,
            groupUniqArray((eh.errata_id, eh.task_state))
        ) AS errata_ids,
        groupUniqArray(cm.cpm_cpe) AS cpes,
        max(p.cpm_cpe_hash IS NOT NULL) AS our
    FROM CpeMatch AS cm
    LEFT JOIN (
        SELECT DISTINCT cpm_cpe_hash FROM PackagesCveMatch
    ) AS p ON cm.cpe_hash = p.cpm_cpe_hash
    LEFT JOIN (
        SELECT
            errata_id,
            task_state,
            arrayJoin(`eh_references.link`) AS vuln_id
        FROM ErrataHistory
        WHERE (errata_id, eh_updated) IN (
            SELECT
                argMax(errata_id, eh_updated) AS eid,
                max(eh_updated) AS max_ts
            FROM ErrataHistory
            WHERE eh_type IN ('branch', 'task')
            GROUP BY errata_id_noversion
            HAVING eid NOT IN (SELECT errata_id FROM last_discarded_erratas)
        )
    ) AS eh ON eh.vuln_id = cm.vuln_id
    GROUP BY cm.vuln_id
) AS extras ON base_vulns.vuln_id = extras.vuln_id
{where_clause}
{order_by}
{limit}
{page}
"""
for _clause in ("where_vuln_input", "having_vulns", "where_clause", "order_by", "limit", "page"):
    GET_VULN_LIST = GET_VULN_LIST.replace("{" + _clause + "}", "")
GET_VULN_LIST += "SETTINGS join_use_nulls = 1"


def test_the_cves_of_matched_packages_are_ours_and_the_rest_not(
    store: Store, tmp_path: Path
) -> None:
    build_world(store, tmp_path)
    # A record of a product no package maps to.
    stranger = json.loads(
        json.dumps(SYNTHETIC)
        .replace("CVE-2099-0001", "CVE-2099-0002")
        .replace("example:tukit", "nobody:nothing")
    )
    (tmp_path / "stranger").mkdir()
    (tmp_path / "stranger" / "CVE-2099-0002.json").write_text(json.dumps(stranger))
    assert load_vulns(store, source="nvd", paths=[tmp_path / "stranger"]).written == 1
    rematch_branch(store, branch=BRANCH)
    matched = {v for (v,) in store.query("SELECT DISTINCT vuln_id FROM PackagesCveMatch")}
    assert matched == {*RECORDS, "CVE-2099-0001"}  # independent of the API: the match rows
    listed = {row[0]: row[9] for row in store.query(GET_VULN_LIST)}
    assert {vuln for vuln, our in listed.items() if our == 1} == matched
    assert listed["CVE-2099-0002"] == 0
