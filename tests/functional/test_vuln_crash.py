"""Vulnerability loads and rematches killed at any write, then run again, leave what a
clean run leaves.

Each case SIGKILLs the command right after its k-th write to the store
(``crashing_cli.py``: every insert block and every command, a vulnerability load
writing four records a batch), for every k, runs the same command again, and compares
what readers see with a single clean run: the ranges (``CpeMatch``, as a multiset: a
range written twice is matched twice), each record's current version, the verdicts
with their evidence, the status rows the ALTRepo API reads, and the match rows. The
world is the hand-checked one of ``tests/unit/security/world.py`` (every status path).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from repotrack.ingest.vulns import CPM_COLUMNS, load_vulns
from repotrack.security import rematch_branch
from repotrack.security.triage import record_triage
from repotrack.store import Store, open_store
from tests.functional.killing import every_kill, prepared
from tests.unit.security.world import (
    BRANCH,
    SYNTHETIC,
    build_world,
    deletes_applied,
    nvd_files,
)
from tests.unit.store.storeutil import template_store


def _seen(store: Store) -> dict[str, Any]:
    """What readers of the vulnerability tables see, without the runs' times and ids."""
    deletes_applied(store)
    ranges = ", ".join(f"`{c}`" for c in CPM_COLUMNS)
    return {
        "ranges": Counter(store.query(f"SELECT {ranges} FROM CpeMatch")),  # noqa: S608
        "current": set(
            store.query(
                "SELECT vuln_id, argMax(vuln_hash, ts), argMax(vuln_rejected, ts) "
                "FROM Vulnerabilities GROUP BY vuln_id"
            )
        ),
        "verdicts": set(
            store.query(
                "SELECT pkg_name, vuln_id, toString(argMax(pvv_status, ts)), "
                "argMax(pvv_reason, ts), toString(argMax(pvv_evidence.detail, ts)) "
                "FROM PackagesVulnerabilityVerdict WHERE pkgset_name = {b:String} "
                "GROUP BY pkg_name, vuln_id",
                {"b": BRANCH},
            )
        ),
        # Every row: the ALTRepo API reads all rows of a pair (open: one vulnerable, none fixed).
        "statuses": set(
            store.query(
                "SELECT pkg_hash, pkg_name, vuln_id, vuln_hash, is_vulnerable, is_fixed "
                "FROM PackagesVulnerabilityStatus WHERE pkgset_name = {b:String}",
                {"b": BRANCH},
            )
        ),
        "matches": Counter(
            store.query(
                "SELECT pkg_hash, vuln_id, vuln_hash, cpm_cpe_hash, is_vulnerable "
                "FROM PackagesCveMatch FINAL"
            )
        ),
    }


def _dump(home: Path) -> dict[str, Any]:
    with open_store(f"chdb://{home / 'store'}") as store:
        return _seen(store)


def _prepared(factory: pytest.TempPathFactory, name: str, fill: Callable[[Store], None]) -> Path:
    """A closed store directory: the migrated template, then ``fill``."""
    return prepared(factory, name, template_store(factory), fill)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_killed_feed_load_then_rerun_equals_a_clean_load(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    template = _prepared(tmp_path_factory, "empty", lambda store: None)
    files = [str(path) for path in nvd_files(tmp_path)]
    # 8 records in batches of 4: each batch writes its ranges, then its records.
    args = ["load", "vulns", "nvd", *files]
    writes, want = every_kill(tmp_path_factory, template, args, _dump, said="8 record(s)")
    assert writes.count("insert CpeMatch") == 2
    assert len(want["current"]) == 8 and len(want["ranges"]) == sum(want["ranges"].values())


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_killed_rematch_then_rerun_equals_a_clean_one(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    template = _prepared(tmp_path_factory, "world", lambda store: build_world(store, tmp_path))
    args = ["vulns", "match", "-b", BRANCH]
    _, want = every_kill(tmp_path_factory, template, args, _dump, said="full rematch")
    statuses = {(name, vuln): status for name, vuln, status, _, _ in want["verdicts"]}
    assert statuses[("squid", "CVE-2025-62168")] == "fixed"  # the world's hand-checked table
    assert statuses[("tukit", "CVE-2099-0001")] == "vulnerable"


def _matched_then_changed(store: Store, tmp: Path) -> None:
    """The world after a full rematch, then a new version of one record (its range now
    ends below the package's version) and a triage decision: the next rematch is an
    incremental one."""
    build_world(store, tmp)
    rematch_branch(store, branch=BRANCH)
    changed = json.loads(json.dumps(SYNTHETIC))
    changed["lastModified"] = "2099-02-01T00:00:00.000"
    match = changed["configurations"][0]["nodes"][0]["cpeMatch"][0]
    match["versionEndIncluding"] = "0.9"
    path = tmp / "CVE-2099-0001-v2.json"
    path.write_text(json.dumps(changed))
    assert load_vulns(store, source="nvd", paths=[path]).written == 1
    record_triage(
        store,
        vuln_id="CVE-2021-36370",
        pkg_name="mc",
        branch=BRANCH,
        status="not_affected",
        author="tester",
        reason="the vulnerable code is not built",
    )


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_killed_incremental_rematch_then_rerun_equals_a_clean_one(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    template = _prepared(
        tmp_path_factory, "changed", lambda store: _matched_then_changed(store, tmp_path)
    )
    args = ["vulns", "match", "-b", BRANCH]
    _, want = every_kill(tmp_path_factory, template, args, _dump, said="incremental rematch")
    statuses = {(name, vuln): status for name, vuln, status, _, _ in want["verdicts"]}
    assert statuses[("tukit", "CVE-2099-0001")] == "fixed"  # the new version's range ends below
    assert statuses[("mc", "CVE-2021-36370")] == "not_affected"  # the triage decision


def _errata(home: Path) -> dict[str, Any]:
    """The branch's errata and their change records, ids left out: a killed build's
    claims make the rerun's numbers differ; what must not differ is which errata exist,
    and that each has its one change record."""
    with open_store(f"chdb://{home / 'store'}") as store:
        errata = store.query(
            "SELECT errata_id, eh_type, errata_id_version, pkg_name, eh_references.type "
            "FROM ErrataHistory WHERE pkgset_name = {b:String}",
            {"b": BRANCH},
        )
        changes = store.query("SELECT errata_id, ec_type FROM ErrataChangeHistory")
    kinds = {str(i): str(k) for i, k, *_ in errata}
    return {
        "errata": Counter((k, v, n, tuple(t)) for _, k, v, n, t in errata),
        "changes": Counter((kinds.get(str(i), "missing"), str(c)) for i, c in changes),
        "recorded": sorted(Counter(str(i) for i, _ in changes).values()) == [1] * len(errata)
        and set(kinds) == {str(i) for i, _ in changes},
    }


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_killed_errata_build_then_rerun_gives_each_erratum_its_change_record(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """``vulns errata build`` writes the errata, then their ALT-EC change records; killed
    in between, the rerun found every erratum unchanged and the records were never
    written."""
    template = _prepared(tmp_path_factory, "errata", lambda store: build_world(store, tmp_path))
    args = ["vulns", "errata", "build", "-b", BRANCH]
    # The rerun, then a run with nothing to do: neither may write a record twice.
    _, want = every_kill(tmp_path_factory, template, args, _errata, said="1 new", reruns=2)
    assert want["recorded"] and sum(want["errata"].values()) == 3  # PU, BU and SA
