"""An incremental rematch gives what a full one gives, table by table.

Each test changes the hand-checked world (``world.py``) after a full rematch, runs an
incremental rematch, snapshots the latest state of the three result tables, then runs a
full rematch of the same state and compares: a pair the incremental run missed, got
wrong or kept by mistake shows up as a difference.
"""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from repotrack.ingest.vulns import load_vulns
from repotrack.rpm import changelog_hash
from repotrack.security import record_triage, rematch_branch
from repotrack.security.errata import build_branch_errata
from repotrack.store import Store
from tests.unit.security.world import (
    BRANCH,
    DAY,
    PACKAGES,
    SQUID_FIX,
    SYNTHETIC,
    build_world,
    deletes_applied,
    nvd_files,
)
from tests.unit.security.world import verdicts as latest_verdicts
from tests.unit.store.rows import load_branch_snapshot, package

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(store: Store, branch: str = BRANCH) -> Snapshot:
    """The latest row per key of each result table, without the write times; for
    ``PackagesVulnerabilityStatus`` whether **any** row says vulnerable or fixed, as the
    ALTRepo API reads it (once the run's deletes are applied)."""
    deletes_applied(store)
    params = {"b": branch}
    return {
        "PackagesVulnerabilityVerdict": store.query(
            "SELECT pkg_name, vuln_id, argMax(pkg_hash, ts), argMax(pkg_version, ts),"
            " argMax(vuln_hash, ts), toString(argMax(pvv_status, ts)), argMax(pvv_reason, ts),"
            " arraySort(arrayMap((k, r, d) -> concat(k, '|', r, '|', d),"
            " argMax(pvv_evidence.kind, ts), argMax(pvv_evidence.ref, ts),"
            " argMax(pvv_evidence.detail, ts))) "
            "FROM PackagesVulnerabilityVerdict WHERE pkgset_name = {b:String} "
            "GROUP BY pkg_name, vuln_id ORDER BY pkg_name, vuln_id",
            params,
        ),
        "PackagesVulnerabilityStatus": store.query(
            "SELECT pkg_name, pkg_hash, vuln_id, argMax(vuln_hash, ts), max(is_vulnerable),"
            " max(is_fixed) FROM PackagesVulnerabilityStatus WHERE pkgset_name = {b:String}"
            " GROUP BY pkg_name, pkg_hash, vuln_id ORDER BY pkg_name, pkg_hash, vuln_id",
            params,
        ),
        "PackagesCveMatch": store.query(
            "SELECT key_hash, pkg_hash, vuln_id, argMax(vuln_hash, ts), argMax(pkg_cpe, ts),"
            " argMax(cpm_cpe, ts), argMax(is_vulnerable, ts) FROM PackagesCveMatch"
            " GROUP BY key_hash, pkg_hash, vuln_id ORDER BY key_hash, pkg_hash, vuln_id",
        ),
    }


def assert_same_as_full(store: Store) -> Snapshot:
    incremental = snapshot(store)
    run = rematch_branch(store, branch=BRANCH, full=True)
    assert run.kind == "full"
    full = snapshot(store)
    for table, rows in full.items():
        assert incremental[table] == rows, table
    return full


def new_record_version(tmp_path: Path, end: str) -> Path:
    """CVE-2099-0001 again, modified later, with another end bound."""
    changed = dict(SYNTHETIC, lastModified="2099-02-01T00:00:00.000")
    changed["configurations"] = json.loads(
        json.dumps(SYNTHETIC["configurations"]).replace('"1.1"', json.dumps(end))
    )
    folder = tmp_path / f"end-{end}"
    folder.mkdir()
    (folder / "CVE-2099-0001.json").write_text(json.dumps(changed))
    return folder


def test_after_changed_vulnerabilities_and_triage(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    assert rematch_branch(store, branch=BRANCH).kind == "full"
    # The made-up record's end bound drops below tukit's 1.a; a triage row overrides mc.
    assert load_vulns(store, source="nvd", paths=[new_record_version(tmp_path, "0.9")]).written
    record_triage(
        store,
        vuln_id="CVE-2021-36370",
        pkg_name="mc",
        branch=BRANCH,
        status="fixed",
        author="tester",
        reason="backported by hand",
    )
    run = rematch_branch(store, branch=BRANCH)
    assert (run.kind, run.vulnerabilities, run.packages) == ("incremental", 2, 0)
    full = assert_same_as_full(store)
    found = {(r[0], r[1]): (r[5], r[6]) for r in full["PackagesVulnerabilityVerdict"]}
    assert found[("tukit", "CVE-2099-0001")] == ("fixed", "newer_version")
    assert found[("mc", "CVE-2021-36370")] == ("fixed", "triage")
    assert found[("xz", "CVE-2024-3094")] == ("vulnerable", "range")


def _spied(store: Store, monkeypatch: Any) -> list[str]:
    """The statements the store runs from now on (until ``monkeypatch.undo``)."""
    statements: list[str] = []
    for name in ("command", "query"):
        original = getattr(store, name)

        def spy(sql: str, params: Any = None, original: Any = original) -> Any:
            statements.append(sql)
            return original(sql, params)

        monkeypatch.setattr(store, name, spy)
    return statements


def test_a_run_for_changed_records_only_reads_no_package_changes(
    store: Store, tmp_path: Path, monkeypatch: Any
) -> None:
    """A run after changed records only (same package set) is written without the package
    changes: no such table, no set built from one. The record changed twice since the
    previous run (two rows written since) is matched by its newest version."""
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    for end in ("2.0", "0.9"):  # the second version is the current one
        assert load_vulns(store, source="nvd", paths=[new_record_version(tmp_path, end)]).written
    statements = _spied(store, monkeypatch)
    run = rematch_branch(store, branch=BRANCH)
    monkeypatch.undo()
    assert (run.kind, run.vulnerabilities, run.packages) == ("incremental", 1, 0)
    reads = [sql for sql in statements if not sql.startswith("DROP TABLE IF EXISTS")]
    assert not [sql for sql in reads if "{packages:Identifier}" in sql]
    full = assert_same_as_full(store)
    found = {(r[0], r[1]): (r[5], r[6]) for r in full["PackagesVulnerabilityVerdict"]}
    assert found[("tukit", "CVE-2099-0001")] == ("fixed", "newer_version")


def test_a_new_snapshot_alone_matches_the_added_packages_only(
    store: Store, tmp_path: Path, monkeypatch: Any
) -> None:
    """The daily case: a new snapshot, no record, triage row, check or erratum written
    since the previous run. The match then reads the added packages' ranges alone (the
    changed records' part would find nothing), and the result is a full run's."""
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    sources = [
        package(201 if name == "mc" else pkg_hash, name, "4.8.27" if name == "mc" else version,
                source=True)
        for pkg_hash, name, version, _ in PACKAGES
    ]  # fmt: skip
    load_branch_snapshot(store, BRANCH, DAY + timedelta(days=1), sources, [])
    statements = _spied(store, monkeypatch)
    run = rematch_branch(store, branch=BRANCH)
    monkeypatch.undo()
    assert (run.kind, run.vulnerabilities, run.packages) == ("incremental", 0, 1)
    (match,) = [sql for sql in statements if "{scratch:Identifier} ENGINE" in sql]
    assert "{changes:Identifier} WHERE rejected = 0" not in match
    assert_same_as_full(store)
    assert latest_verdicts(store)[("mc", "CVE-2021-36370")] == ("fixed", "newer_version")


def test_after_a_package_set_change(store: Store, tmp_path: Path) -> None:
    """A new snapshot of the branch: one package updated past its range, one removed, one
    added with a changelog naming a CVE; errata built from it; ranges changed too."""
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    sources = []
    for pkg_hash, name, version, _ in PACKAGES:
        if name == "xz":
            continue  # removed
        if name == "mc":
            pkg_hash, version = 201, "4.8.27"  # updated: past (, 4.8.26]
        changelog = []
        if name == "squid":
            changelog = [(DAY, "M <m@example.org>", "6.10-alt2", changelog_hash(SQUID_FIX))]
        sources.append(package(pkg_hash, name, version, source=True, changelog=changelog))
    load_branch_snapshot(store, BRANCH, DAY + timedelta(days=1), sources, [])
    build_branch_errata(store, branch=BRANCH, user="tester")
    assert load_vulns(store, source="nvd", paths=[new_record_version(tmp_path, "2.0")]).written
    run = rematch_branch(store, branch=BRANCH)
    assert (run.kind, run.packages) == ("incremental", 1)
    assert_same_as_full(store)
    found = latest_verdicts(store)
    assert found[("mc", "CVE-2021-36370")] == ("fixed", "newer_version")
    assert found[("xz", "CVE-2024-3094")] == ("unknown", "unmatched")
    assert found[("squid", "CVE-2025-62168")] == ("fixed", "errata")
    assert found[("tukit", "CVE-2099-0001")] == ("vulnerable", "range")


def test_an_updated_package_gets_the_verdict_of_its_new_build(store: Store, tmp_path: Path) -> None:
    """A full rematch after an update: the old build's pair is not written as unmatched at
    the same time as the new build's verdict (the latest per package name would be either)."""
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    sources = [
        package(201 if name == "mc" else h, name, "4.8.27" if name == "mc" else v, source=True)
        for h, name, v, _ in PACKAGES
    ]
    load_branch_snapshot(store, BRANCH, DAY + timedelta(days=1), sources, [])
    for _ in range(3):
        rematch_branch(store, branch=BRANCH, full=True)
        assert latest_verdicts(store)[("mc", "CVE-2021-36370")] == ("fixed", "newer_version")


class _StopsAtTheMatch:
    """The store, but the match statement fails once: a run that stops half-way, after
    the match targets of the new package set were written."""

    def __init__(self, store: Store) -> None:
        self.store, self.failed = store, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def command(self, sql: str, params: Any = None) -> None:
        if "{scratch:Identifier} ENGINE = Memory AS" in sql and not self.failed:
            self.failed = True
            raise RuntimeError("stopped")
        self.store.command(sql, params)


def test_a_run_that_stopped_half_way_is_made_good_by_the_next(store: Store, tmp_path: Path) -> None:
    """The next snapshot's run stops after writing its targets; a later snapshot (one
    package of the first one gone again, another one added) is then matched
    incrementally and still equals a full rematch."""
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    first = [package(h, n, v, source=True) for h, n, v, _ in PACKAGES if n != "xz"]
    first.append(package(301, "xz", "5.6.2", source=True))
    load_branch_snapshot(store, BRANCH, DAY + timedelta(days=1), first, [])
    stopping = _StopsAtTheMatch(store)
    with contextlib.suppress(RuntimeError):
        rematch_branch(stopping, branch=BRANCH)
    assert stopping.failed
    second = [package(h, n, v, source=True) for h, n, v, _ in PACKAGES if n not in ("xz", "mc")]
    second.append(package(201, "mc", "4.8.27", source=True))
    load_branch_snapshot(store, BRANCH, DAY + timedelta(days=2), second, [])
    run = rematch_branch(store, branch=BRANCH)
    assert (run.kind, run.packages) == ("incremental", 1)
    assert_same_as_full(store)
    found = latest_verdicts(store)
    assert found[("xz", "CVE-2024-3094")] == ("unknown", "unmatched")
    assert found[("mc", "CVE-2021-36370")] == ("fixed", "newer_version")


def test_a_run_before_migration_0012_is_followed_by_a_full_one(
    store: Store, tmp_path: Path
) -> None:
    """Runs before 0012 wrote mentions without the package's name and version: the next
    rematch does not build on them."""
    build_world(store, tmp_path)
    assert rematch_branch(store, branch=BRANCH).kind == "full"
    assert rematch_branch(store, branch=BRANCH).kind == "incremental"
    store.command(
        "ALTER TABLE VulnMatchRuns UPDATE vmr_format = 0 WHERE 1 SETTINGS mutations_sync = 1"
    )
    assert rematch_branch(store, branch=BRANCH).kind == "full"
    assert rematch_branch(store, branch=BRANCH).kind == "incremental"


class _Recording:
    """The store, with every statement it is given recorded."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.statements: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def command(self, sql: str, params: Any = None) -> None:
        self.statements.append(sql)
        self.store.command(sql, params)


def test_no_rematch_waits_for_a_delete(store: Store, tmp_path: Path) -> None:
    """A ``DELETE`` returns once its mutation is applied, which on the embedded store
    waited for background merges (up to 0.4 s per run in the benchmark). A run after a
    new snapshot copies what it keeps into a new generation instead of deleting the
    removed packages' rows, and old generations and outdated statuses go without
    waiting: no run's delete waits, and the result is still the full rematch's."""
    build_world(store, tmp_path)
    recording = _Recording(store)
    rematch_branch(recording, branch=BRANCH)
    sources = [package(h, n, v, source=True) for h, n, v, _ in PACKAGES if n != "xz"]
    load_branch_snapshot(store, BRANCH, DAY + timedelta(days=1), sources, [])
    run = rematch_branch(recording, branch=BRANCH)
    assert run.kind == "incremental"
    deletes = [" ".join(s.split()) for s in recording.statements if "DELETE" in s.upper()]
    assert any("PackagesVulnerabilityStatus" in d for d in deletes)  # xz's build left the set
    assert all(d.endswith("SETTINGS lightweight_deletes_sync = 0") for d in deletes), deletes
    assert_same_as_full(store)
    assert latest_verdicts(store)[("xz", "CVE-2024-3094")] == ("unknown", "unmatched")


def test_a_run_with_nothing_new_only_records_itself(
    store: Store, tmp_path: Path, monkeypatch: Any
) -> None:
    """No record, triage row or erratum written since the previous run and the same
    package set: the run reads what changed and writes its run row, nothing else, and
    the result tables are those of a full run."""
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    assert not load_vulns(store, source="nvd", paths=nvd_files(tmp_path)).written  # again: no news
    statements = _spied(store, monkeypatch)
    run = rematch_branch(store, branch=BRANCH)
    monkeypatch.undo()
    assert (run.kind, run.vulnerabilities, run.matches, run.verdicts) == ("incremental", 0, 0, 0)
    assert len(statements) == 2, statements
    assert statements[1].lstrip().startswith("INSERT INTO VulnMatchRuns")
    assert_same_as_full(store)


def test_a_triage_row_alone_is_rematched(store: Store, tmp_path: Path) -> None:
    """Nothing else new: the triage row written since the run still changes the verdict."""
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    record_triage(
        store,
        vuln_id="CVE-2024-3094",
        pkg_name="xz",
        branch=BRANCH,
        status="not_affected",
        author="tester",
        reason="the backdoor is not built in",
    )
    run = rematch_branch(store, branch=BRANCH)
    assert (run.kind, run.vulnerabilities) == ("incremental", 1)
    full = assert_same_as_full(store)
    found = {(r[0], r[1]): (r[5], r[6]) for r in full["PackagesVulnerabilityVerdict"]}
    assert found[("xz", "CVE-2024-3094")] == ("not_affected", "triage")
