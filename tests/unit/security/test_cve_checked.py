"""ALT's manual CVE checks (altrepodb's real ``CveChecked-initial.json``) decide verdicts.

Each package below is one the seed file names, at a build chosen on either side of the
checked version. The expected verdict is worked out with librpm's ``labelCompare`` from
the rule ``security.checked`` states: a plain checked version covers that build and
later ones, ``< 4`` the builds below, ``*`` every build; a version written without an
epoch is compared with the package's own epoch, one without a release by version alone.
A covered build gets the check's status (``patched`` → fixed, ``manually_excluded`` →
not affected, reason ``checked``); any other is judged by its range (vulnerable below the
records' fix).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from repotrack.ingest.vulns import load_vulns
from repotrack.rpm import VersionOrder
from repotrack.security import record_triage, rematch_branch, set_mapping
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.rpm.librpm import label_compare
from tests.unit.security.test_incremental import snapshot
from tests.unit.store.rows import load_branch_snapshot, package

BRANCH = "p10"
DAY = datetime(2026, 12, 1, tzinfo=UTC)
STREAM = "ALT:p10"
SEED = ("cve", "alt", "CveChecked-initial.json")

#: (name, epoch, version, release) of the branch's builds.
BUILDS = (
    ("ed", 1, "0.2", "alt5"),  # CVE-2006-6939 patched 0.2-alt1; CVE-2008-3916 in 0.2-alt7
    ("bash", 0, "3.2.57", "alt1"),  # CVE-2019-9924 manually_excluded "< 4"
    ("gnupg", 0, "1.4.23", "alt1"),  # CVE-2018-12020 patched "1.4.23"
    ("realmd", 0, "0.16.3", "alt2"),  # CVE-2015-2704 patched "realmd-0.16.3-alt3"
    ("arpwatch", 0, "2.1a15", "alt8"),  # CVE-2012-2653 manually_excluded "*"
    ("ceph", 0, "15.2.9", "alt1"),  # CVE-2020-27781 manually_excluded 15.2.8-alt1
    ("tor", 0, "0.4.4.4", "alt1"),  # CVE-2009-0414 excluded 0.4.4.5-alt1; two more "*"
)


def _seed() -> list[dict[str, Any]]:
    lines = need_fixtures(*SEED).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _ranges(tmp_path: Path) -> list[Path]:
    """An OSV record per CVE the seed file names for the builds: vulnerable below 999."""
    names = {name for name, *_ in BUILDS}
    paths = []
    for row in _seed():
        if row["pkg_name"] not in names:
            continue
        record = {
            "id": row["cve_id"],
            "modified": "2026-11-01T00:00:00Z",
            "published": "2026-11-01T00:00:00Z",
            "affected": [
                {
                    "package": {"ecosystem": STREAM, "name": row["pkg_name"]},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "999"}]}
                    ],
                }
            ],
        }
        path = tmp_path / f"{row['cve_id']}.json"
        path.write_text(json.dumps(record))
        paths.append(path)
    return paths


def _world(store: Store, tmp_path: Path) -> None:
    sources = [
        package(900 + n, name, version, release, epoch=epoch, source=True, arch="src")
        for n, (name, epoch, version, release) in enumerate(BUILDS)
    ]
    load_branch_snapshot(store, BRANCH, DAY, sources, [])
    for name, *_ in BUILDS:
        set_mapping(store, pkg_name=name, result=f"osv:{STREAM}/{name}", user="tester")
    assert load_vulns(store, source="osv", paths=_ranges(tmp_path)).problems == []


def _expected() -> dict[tuple[str, str], tuple[str, str]]:
    """librpm's reading of each seed row for the builds: (status, reason) per pair."""
    builds = {name: (str(epoch), version, release) for name, epoch, version, release in BUILDS}
    expected = {}
    for row in _seed():
        if row["pkg_name"] not in builds:
            continue
        epoch, version, release = builds[row["pkg_name"]]
        (written,) = row["cc_checked_ver.pkg_evr"]
        op, _, bound = written.rpartition(" ") if " " in written else (">=", "", written)
        bound = bound.removeprefix(f"{row['pkg_name']}-")
        if bound == "*":
            covered = True
        else:
            bound_version, _, bound_release = bound.partition("-")
            mine = (epoch, version, release if bound_release else None)
            (cmp,) = label_compare([(mine, (epoch, bound_version, bound_release or None))])
            covered = {">=": cmp >= 0, "<": cmp < 0}[op]
        status = {"patched": "fixed", "manually_excluded": "not_affected"}[row["cc_status"]]
        pair = (row["pkg_name"], row["cve_id"])
        expected[pair] = (status, "checked") if covered else ("vulnerable", "range")
    return expected


def _verdicts(store: Store) -> dict[tuple[str, str], tuple[str, str]]:
    rows = store.query(
        "SELECT pkg_name, vuln_id, toString(argMax(pvv_status, ts)), argMax(pvv_reason, ts) "
        "FROM PackagesVulnerabilityVerdict WHERE pkgset_name = {b:String} "
        "GROUP BY pkg_name, vuln_id",
        {"b": BRANCH},
    )
    return {(n, v): (s, r) for n, v, s, r in rows}


def test_loading_the_seed_file_twice_stores_it_once(store: Store) -> None:
    path = need_fixtures(*SEED)
    first = load_vulns(store, source="cvechecked", paths=[path])
    again = load_vulns(store, source="cvechecked", paths=[path])
    assert (first.records, first.written, first.unchanged, first.problems) == (134, 134, 0, [])
    assert (again.records, again.written, again.unchanged) == (134, 0, 134)
    assert again.line() == "cvechecked: 1 file(s), 134 check(s): 0 written, 134 already loaded"
    ((rows, patched, ids),) = store.query(
        "SELECT count(), countIf(cc_status = 'patched'), uniqExact(cc_id) FROM CveChecked"
    )
    assert (rows, patched, ids) == (134, 57, 134)


@pytest.mark.parametrize("order", [VersionOrder.RPM, VersionOrder.ALT])
def test_checks_decide_the_builds_they_cover(
    store: Store, tmp_path: Path, order: VersionOrder
) -> None:
    _world(store, tmp_path)
    load_vulns(store, source="cvechecked", paths=[need_fixtures(*SEED)])
    rematch_branch(store, branch=BRANCH, order=order)
    expected = _expected()
    assert _verdicts(store) == expected
    # what the rule says, as the seed file's rows read: worked out by hand
    assert expected == {
        ("ed", "CVE-2006-6939"): ("fixed", "checked"),
        ("ed", "CVE-2008-3916"): ("vulnerable", "range"),  # 0.2-alt5 < 0.2-alt7
        ("bash", "CVE-2019-9924"): ("not_affected", "checked"),
        ("gnupg", "CVE-2018-12020"): ("fixed", "checked"),
        ("realmd", "CVE-2015-2704"): ("vulnerable", "range"),
        ("arpwatch", "CVE-2012-2653"): ("not_affected", "checked"),
        ("ceph", "CVE-2020-27781"): ("not_affected", "checked"),
        ("tor", "CVE-2009-0414"): ("vulnerable", "range"),
        ("tor", "CVE-2016-9079"): ("not_affected", "checked"),
        ("tor", "CVE-2017-16541"): ("not_affected", "checked"),
    }
    ((kinds, refs, details),) = store.query(
        "SELECT argMax(pvv_evidence.kind, ts), argMax(pvv_evidence.ref, ts), "
        "argMax(pvv_evidence.detail, ts) FROM PackagesVulnerabilityVerdict "
        "WHERE pkg_name = 'ed' AND vuln_id = 'CVE-2006-6939'"
    )
    assert sorted(kinds) == ["checked", "range"]
    assert refs[kinds.index("checked")] == "patched 0.2-alt1 (*)"
    assert details[kinds.index("checked")] == "2002-08-28: fixed by ldv in 1:0.2-alt1"


def test_a_triage_row_outranks_a_check_and_other_branches_checks_do_not_apply(
    store: Store, tmp_path: Path
) -> None:
    _world(store, tmp_path)
    load_vulns(store, source="cvechecked", paths=[need_fixtures(*SEED)])
    record_triage(
        store,
        vuln_id="CVE-2012-2653",
        pkg_name="arpwatch",
        branch=BRANCH,
        status="vulnerable",
        author="tester",
    )
    other = {
        "cve_id": "CVE-2008-3916",
        "pkg_name": "ed",
        "cc_checkdate": "2024-01-01 00:00:00",
        "cc_description": "checked in p9 only",
        "cc_description_ru": "",
        "cc_checked_ver.pkg_evr": ["*"],
        "cc_checked_ver.pkg_branch": ["p9"],
        "cc_status": "manually_excluded",
    }
    path = tmp_path / "p9.json"
    path.write_text(json.dumps(other))
    assert load_vulns(store, source="cvechecked", paths=[path]).written == 1
    rematch_branch(store, branch=BRANCH)
    found = _verdicts(store)
    assert found[("ed", "CVE-2006-6939")] == ("fixed", "checked")
    assert found[("arpwatch", "CVE-2012-2653")] == ("vulnerable", "triage")
    assert found[("ed", "CVE-2008-3916")] == ("vulnerable", "range")


def test_checks_loaded_after_a_run_are_taken_by_the_next_incremental_one(
    store: Store, tmp_path: Path
) -> None:
    _world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    assert set(_verdicts(store).values()) == {("vulnerable", "range")}
    load_vulns(store, source="cvechecked", paths=[need_fixtures(*SEED)])
    run = rematch_branch(store, branch=BRANCH)
    assert run.kind == "incremental"
    assert run.vulnerabilities == len({row["cve_id"] for row in _seed()})
    incremental = snapshot(store, BRANCH)
    assert _verdicts(store) == _expected()
    assert rematch_branch(store, branch=BRANCH, full=True).kind == "full"
    assert snapshot(store, BRANCH) == incremental
    # nothing written since: the next run only records itself
    assert rematch_branch(store, branch=BRANCH).verdicts == 0


def test_checks_stored_before_migration_0015_get_a_fixed_write_time(store: Store) -> None:
    """A store upgraded from before 0015 whose ``CveChecked`` was filled by other means
    (``INSERT ... FORMAT JSONEachRow``, as altrepodb's README does): its rows get the
    migration's time once, not a default computed anew at each read, which would make
    every run take them for new."""
    from repotrack.store import migrate

    store.command("ALTER TABLE CveChecked DROP COLUMN ts")
    store.command("DELETE FROM repotrack_migrations WHERE version = 15")
    line = need_fixtures(*SEED).read_text(encoding="utf-8").splitlines()[0]
    store.command(f"INSERT INTO CveChecked FORMAT JSONEachRow {line}")
    assert migrate(store) == ["0015_cve_checked_ts"]
    ((first,),) = store.query("SELECT ts FROM CveChecked")
    time.sleep(0.05)
    ((again,),) = store.query("SELECT ts FROM CveChecked")
    assert first == again
