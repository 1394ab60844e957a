"""``vulns cve`` / ``vulns open`` answer as the ALTRepo API's open-vulnerability list does.

The API's ``/vulnerabilities/open/packages`` (``PackagesByOpenVuln`` in
``altrepo_api/api/vulnerabilities/endpoints/packages.py``) decides which packages of
which branch are open for a vulnerability with ``get_packages_with_open_vuln``; asked
about a BDU record (an id starting with ``BDU:``) it first replaces the id by the CVE
ids the record names (``get_bdu_related_cves``): BDU records carry no ranges, only
their CVEs. Both queries are quoted below from ``altrepo_api/api/vulnerabilities/sql.py``
(liannnix/altrepoapi at e18bcd4d) as compatibility fixtures, with only their
placeholders filled (``{tmp_table}`` as a bound array, ``{bdu_id}`` as a bound string).
The store is the hand-checked world of ``world.py`` (open: mc for CVE-2021-36370, xz for
CVE-2024-3094, tukit for CVE-2099-0001), and the answers are compared as a user gets
them: which packages, in which branch, at which version-release. ``vulns errata list``
is compared the same way with the errata ``/errata/search?branch=`` lists
(``search_valid_errata``, ``altrepo_api/api/errata/sql.py``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from repotrack.ingest.vulns import load_vulns
from repotrack.security import rematch_branch
from repotrack.security.errata import branch_errata, build_branch_errata
from repotrack.security.queries import (
    branch_verdicts,
    fixed_across_branches,
    vulnerability_verdicts,
)
from repotrack.store import Store
from tests.unit.security.test_altrepo_open_vulns import GET_PACKAGES_WITH_OPEN_VULN
from tests.unit.security.test_errata_altrepo_api import discard
from tests.unit.security.world import (
    BRANCH,
    RECORDS,
    build_world,
    deletes_applied,
    squid_names_a_second_cve,
)

# altrepo_api/api/vulnerabilities/sql.py, get_packages_with_open_vuln: imported above.
# altrepo_api/api/vulnerabilities/sql.py, get_bdu_related_cves
GET_BDU_RELATED_CVES = """
SELECT arrayReduce(
    'groupUniqArray',
    arrayMap(
        x -> (x.2),
        arrayFilter(
            (t, l) -> (t = 'CVE'),
            arrayZip(vuln_references.type, vuln_references.link)
        )
    )
)
FROM Vulnerabilities
WHERE vuln_hash = (
    SELECT argMax(vuln_hash, ts)
    FROM Vulnerabilities
    WHERE vuln_id = '{bdu_id}'
)
""".replace("'{bdu_id}'", "{bdu_id:String}")

VULNS = (*RECORDS, "CVE-2099-0001")
BDU = "BDU:2024-01234"

# A BDU record in the shape of FSTEC's export.xml (as tests/data/vulns/bdu-export.xml),
# naming two CVEs the world has open packages for (mc and xz); made up.
BDU_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<vulnerabilities>
  <vul>
    <identifier>{BDU}</identifier>
    <name>Made-up record naming two CVEs</name>
    <description>Made up for repotrack's tests.</description>
    <identify_date>01.03.2024</identify_date>
    <cvss3><vector score="7.5">AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H</vector></cvss3>
    <severity>Высокий уровень опасности</severity>
    <identifiers>
      <identifier type="CVE" link="https://nvd.nist.gov/vuln/detail/CVE-2021-36370">CVE-2021-36370</identifier>
      <identifier type="CVE" link="https://nvd.nist.gov/vuln/detail/CVE-2024-3094">CVE-2024-3094</identifier>
    </identifiers>
  </vul>
</vulnerabilities>
"""

Row = tuple[str, str, str, str]  # (branch, package, version, release)


def api_open(store: Store, vuln_id: str) -> set[Row]:
    """What ``/vulnerabilities/open/packages?vuln_id=...`` lists (its SQL part)."""
    deletes_applied(store)
    ids = [vuln_id]
    if vuln_id.startswith("BDU:"):
        ((related,),) = store.query(GET_BDU_RELATED_CVES, {"bdu_id": vuln_id})
        ids = [str(c) for c in related]
    rows = store.query(GET_PACKAGES_WITH_OPEN_VULN, {"ids": ids})
    return {(str(b), str(n), str(v), str(r)) for _h, n, b, v, r in rows}


def our_open(store: Store, vuln_id: str) -> set[Row]:
    """What ``repotrack vulns cve ID -s vulnerable`` lists."""
    found = vulnerability_verdicts(store, vuln_id=vuln_id, status="vulnerable")
    return {(v.branch, v.pkg_name, v.version, v.release) for v in found}


def _world(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    (tmp_path / "bdu").mkdir()
    (tmp_path / "bdu" / "export.xml").write_text(BDU_XML, encoding="utf-8")
    assert load_vulns(store, source="bdu", paths=[tmp_path / "bdu"]).written == 1
    rematch_branch(store, branch=BRANCH)


def test_the_open_packages_of_each_cve_are_the_apis(store: Store, tmp_path: Path) -> None:
    _world(store, tmp_path)
    assert api_open(store, "CVE-2021-36370") == {(BRANCH, "mc", "4.8.21", "alt1")}
    for vuln in VULNS:
        assert our_open(store, vuln) == api_open(store, vuln), vuln


def test_the_open_verdicts_of_a_branch_are_the_apis(store: Store, tmp_path: Path) -> None:
    """``vulns open -b p10``: every (vulnerability, package) pair the API lists as open."""
    _world(store, tmp_path)
    theirs = {(vuln, *row) for vuln in VULNS for row in api_open(store, vuln) if row[0] == BRANCH}
    ours = {
        (v.vuln_id, v.branch, v.pkg_name, v.version, v.release)
        for v in branch_verdicts(store, branch=BRANCH)
    }
    assert {(vuln, name) for vuln, _b, name, _v, _r in theirs} == {
        ("CVE-2021-36370", "mc"),
        ("CVE-2024-3094", "xz"),
        ("CVE-2099-0001", "tukit"),
    }
    assert ours == theirs


def test_a_bdu_id_lists_the_open_packages_of_its_cves(store: Store, tmp_path: Path) -> None:
    """A BDU record has no ranges: asked by its id, the API answers for the CVEs it names.
    ``vulns cve BDU:...`` listed nothing before 2026-12-07."""
    _world(store, tmp_path)
    assert api_open(store, BDU) == {
        (BRANCH, "mc", "4.8.21", "alt1"),
        (BRANCH, "xz", "5.6.1", "alt1"),
    }
    assert our_open(store, BDU) == api_open(store, BDU)
    # Each verdict under its own (CVE) id, as for the records that name a CVE.
    ids = {v.vuln_id for v in vulnerability_verdicts(store, vuln_id=BDU, status="vulnerable")}
    assert ids == {"CVE-2021-36370", "CVE-2024-3094"}


def test_vulns_fixed_of_a_bdu_id_reads_its_cves(store: Store, tmp_path: Path) -> None:
    """``vulns fixed BDU:...`` answers as ``vulns fixed`` of its CVEs (it said "no
    package matched it" before 2026-12-07)."""
    _world(store, tmp_path)
    (p10,) = fixed_across_branches(store, vuln_id=BDU)
    assert (p10.branch, sorted(p10.open_packages)) == (BRANCH, ["mc 4.8.21-alt1", "xz 5.6.1-alt1"])


# altrepo_api/api/errata/sql.py, search_valid_errata, with the ``{where_clause}`` the
# ``/errata/search?branch=...`` endpoint builds (``Search.get`` in
# altrepo_api/api/errata/endpoints/search.py: search_errata_where_clause, then
# ``AND pkgset_name = '<branch>'``).
SEARCH_ERRATA_WHERE_CLAUSE = """
WHERE (task_id, subtask_id) IN (
    SELECT DISTINCT
        task_id,
        subtask_id
    FROM Tasks
    WHERE task_id IN (
            SELECT task_id FROM TaskStates WHERE task_state = 'DONE'
        )
        AND subtask_deleted = 0
    UNION ALL
    SELECT 0 AS task_id, 0 AS subtask_id
)
"""
SEARCH_VALID_ERRATA = """
SELECT * FROM (
    SELECT
        errata_id_noversion,
        argMax(
            tuple(
                errata_id,
                eh_type,
                eh_source,
                eh_created,
                eh_updated,
                pkg_hash,
                pkg_name,
                pkg_version,
                pkg_release,
                pkgset_name,
                task_id,
                subtask_id,
                task_state,
                arrayZip(eh_references.type, eh_references.link)
            ),
            eh_updated
        ) AS errata_tuple,
        max(eh_updated) AS max_ts
    FROM ErrataHistory
    {where_clause}
    GROUP BY errata_id_noversion
    ORDER BY max_ts DESC
)
WHERE tupleElement(errata_tuple, 1) NOT IN (
    SELECT errata_id FROM last_discarded_erratas
)
""".replace("{where_clause}", SEARCH_ERRATA_WHERE_CLAUSE + "AND pkgset_name = {branch:String}")

Erratum = tuple[str, str, str, str, str, tuple[tuple[str, str], ...]]


def api_errata(store: Store) -> set[Erratum]:
    """What ``/errata/search?branch=p10`` lists: id, kind, package N-V-R, references."""
    answer = set()
    for _noversion, e, _max_ts in store.query(SEARCH_VALID_ERRATA, {"branch": BRANCH}):
        refs = tuple((str(t), str(link)) for t, link in e[13])
        answer.add((str(e[0]), str(e[1]), str(e[6]), str(e[7]), str(e[8]), refs))
    return answer


def our_errata(store: Store) -> set[Erratum]:
    """What ``repotrack vulns errata list -b p10`` lists over all days."""
    listed = branch_errata(store, branch=BRANCH, start=date(2000, 1, 1), end=date(2100, 1, 1))
    return {
        (e.errata_id, e.kind, e.pkg_name, e.version, e.release, tuple(e.references)) for e in listed
    }


def test_errata_list_gives_what_the_api_search_gives(store: Store, tmp_path: Path) -> None:
    """Every kind (PU, BU, SA) at its newest version, before and after a change that
    bumps them, and after the newest PU is discarded."""
    build_world(store, tmp_path)
    build_branch_errata(store, branch=BRANCH, user="tester")
    assert {e[1] for e in api_errata(store)} == {"branch", "bulletin", "advisory"}
    assert our_errata(store) == api_errata(store)
    squid_names_a_second_cve(store)
    built = build_branch_errata(store, branch=BRANCH, user="tester")
    (pu2,) = built.updated
    assert our_errata(store) == api_errata(store)
    # The PU, a BU per package set (two snapshots), an SA per CVE (two).
    assert sorted(e[1] for e in api_errata(store)) == [
        "advisory",
        "advisory",
        "branch",
        "bulletin",
        "bulletin",
    ]
    discard(store, pu2)
    assert pu2 not in {e[0] for e in api_errata(store)}
    assert our_errata(store) == api_errata(store)
