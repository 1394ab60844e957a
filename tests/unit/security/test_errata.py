"""Errata ids (§6.2), the store's allocator, and errata built from changelogs."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.security.errata import (
    ErrataId,
    allocate_errata_id,
    branch_errata,
    build_branch_errata,
)
from repotrack.store import Store
from tests.unit.security.world import BRANCH, DAY, build_world, squid_names_a_second_cve


def test_ids_parse_format_and_compare_without_the_prefix() -> None:
    errata = ErrataId.parse("ALT-PU-2023-2000-2")
    assert (errata.prefix, errata.year, errata.number, errata.version) == ("ALT-PU", 2023, 2000, 2)
    assert errata.no_version == "ALT-PU-2023-2000"
    assert str(errata.bumped()) == "ALT-PU-2023-2000-3"
    assert (
        ErrataId.parse("ALT-SA-2023-0999-5").key
        < errata.key
        < ErrataId.parse("ALT-BU-2024-0001-1").key
    )
    for bad in ("ALT-P-2023-2000-1", "RHSA-2023-2000-1", "ALT-PU-23-2000-1", "ALT-PU-2023-2000"):
        with pytest.raises(InputError, match="is not an errata id"):
            ErrataId.parse(bad)


def test_allocation_is_sequential_per_prefix_and_year(store: Store) -> None:
    first = allocate_errata_id(store, prefix="ALT-PU", year=2025)
    second = allocate_errata_id(store, prefix="ALT-PU", year=2025)
    other = allocate_errata_id(store, prefix="ALT-SA", year=2025)
    assert (str(first), str(second), str(other)) == (
        "ALT-PU-2025-1000-1",
        "ALT-PU-2025-1001-1",
        "ALT-SA-2025-1000-1",
    )
    with pytest.raises(InputError, match="does not match"):
        allocate_errata_id(store, prefix="RHSA", year=2025)


def test_concurrent_writers_never_share_an_id(store: Store) -> None:
    got: list[str] = []

    def work() -> None:
        for _ in range(5):
            got.append(str(allocate_errata_id(store, prefix="ALT-PU", year=2030, owner="t")))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == len(set(got)) == 20


def test_errata_from_changelogs_are_idempotent_and_versioned(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    first = build_branch_errata(store, branch=BRANCH, user="tester")
    # Only squid's latest changelog entry names a CVE (CVE-2025-62168).
    assert (len(first.created), first.updated, first.unchanged) == (1, [], 0)
    assert first.created[0].startswith("ALT-PU-") and first.bulletin.startswith("ALT-BU-")
    again = build_branch_errata(store, branch=BRANCH, user="tester")
    assert (again.created, again.updated, again.unchanged, again.bulletin) == (
        [],
        [],
        1,
        first.bulletin,
    )
    ((history, changes),) = store.query(
        "SELECT (SELECT count() FROM ErrataHistory), (SELECT count() FROM ErrataChangeHistory)"
    )
    assert (history, changes) == (3, 3)  # PU + BU + SA, one ALT-EC record each

    # A new snapshot where squid names a second CVE: the PU gets version 2.
    squid_names_a_second_cve(store)
    bumped = build_branch_errata(store, branch=BRANCH, user="tester")
    assert bumped.updated == [first.created[0][:-2] + "-2"]
    assert bumped.bulletin != first.bulletin  # a new package set, a new bulletin
    listed = branch_errata(store, branch=BRANCH, start=date(2000, 1, 1), end=date(2100, 1, 1))
    pu = next(e for e in listed if e.kind == "branch")
    assert pu.errata_id.endswith("-2")
    assert pu.references == [("vuln", "CVE-2025-62168"), ("vuln", "CVE-2025-99999")]
    today = datetime.now(UTC).date()
    assert branch_errata(store, branch=BRANCH, start=today - timedelta(days=1), end=today)
    assert branch_errata(store, branch=BRANCH, start=date(2000, 1, 1), end=date(2000, 1, 2)) == []


def test_an_erratum_is_evidence_of_a_fix(store: Store, tmp_path: Path) -> None:
    from repotrack.security import rematch_branch
    from tests.unit.security.world import verdicts

    build_world(store, tmp_path)
    built = build_branch_errata(store, branch=BRANCH, user="tester")
    rematch_branch(store, branch=BRANCH)
    assert verdicts(store)[("squid", "CVE-2025-62168")] == ("fixed", "errata")
    ((refs,),) = store.query(
        "SELECT pvv_evidence.ref FROM PackagesVulnerabilityVerdict WHERE pkg_name = 'squid'"
    )
    assert built.created[0] in refs
    # A discarded erratum is no evidence any more: the changelog still is.
    store.insert(
        "ErrataChangeHistory",
        ("ec_id", "ec_created", "ec_updated", "ec_type", "errata_id"),
        [("ALT-EC-2099-0001-1", DAY, DAY, "discard", built.created[0])],
    )
    rematch_branch(store, branch=BRANCH, full=True)
    assert verdicts(store)[("squid", "CVE-2025-62168")] == ("fixed", "changelog")


def _task(store: Store, task: int, state: str, subtask: int, srpm: int) -> None:
    store.insert(
        "Tasks_buffer",
        (
            "task_id",
            "subtask_id",
            "task_repo",
            "task_changed",
            "subtask_changed",
            "subtask_deleted",
        ),
        [(task, subtask, BRANCH, DAY, DAY, 0)],
    )
    store.insert(
        "TaskStates_buffer", ("task_changed", "task_id", "task_state"), [(DAY, task, state)]
    )
    store.insert(
        "TaskIterations_buffer",
        ("task_id", "task_changed", "subtask_id", "subtask_arch", "titer_ts", "titer_srcrpm_hash"),
        [(task, DAY, subtask, "x86_64", DAY, srpm)],
    )


def test_errata_per_subtask_of_done_tasks(store: Store, tmp_path: Path) -> None:
    from repotrack.security import rematch_branch
    from tests.unit.security.world import verdicts

    build_world(store, tmp_path)
    _task(store, 300100, "DONE", 1, 102)  # squid 6.10-alt1: its changelog names a CVE
    _task(store, 300100, "DONE", 2, 101)  # mc: a DONE subtask without references
    _task(store, 300200, "FAILED", 1, 107)  # xz: not DONE, no erratum
    built = build_branch_errata(store, branch=BRANCH, user="tester")
    assert len(built.created) == 2
    rows = store.query(
        "SELECT pkg_name, task_id, subtask_id, task_state, eh_type, eh_references.link "
        "FROM ErrataHistory WHERE eh_type = 'task' ORDER BY subtask_id"
    )
    assert [tuple(r) for r in rows] == [
        ("squid", 300100, 1, "DONE", "task", ["CVE-2025-62168"]),
        ("mc", 300100, 2, "DONE", "task", []),
    ]
    again = build_branch_errata(store, branch=BRANCH, user="tester")
    assert (again.created, again.unchanged) == ([], 2)
    rematch_branch(store, branch=BRANCH)
    assert verdicts(store)[("squid", "CVE-2025-62168")] == ("fixed", "errata")


def test_new_errata_and_discards_reach_the_next_rematch(store: Store, tmp_path: Path) -> None:
    from repotrack.security import rematch_branch
    from tests.unit.security.world import verdicts

    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    assert verdicts(store)[("squid", "CVE-2025-62168")] == ("fixed", "changelog")
    built = build_branch_errata(store, branch=BRANCH, user="tester")
    run = rematch_branch(store, branch=BRANCH)
    assert (run.kind, run.vulnerabilities) == ("incremental", 1)  # the erratum's CVE
    assert verdicts(store)[("squid", "CVE-2025-62168")] == ("fixed", "errata")
    store.insert(
        "ErrataChangeHistory",
        ("ec_id", "ec_created", "ec_updated", "ec_type", "errata_id"),
        [("ALT-EC-2099-0002-1", DAY, DAY, "discard", built.created[0])],
    )
    assert rematch_branch(store, branch=BRANCH).kind == "full"
    assert verdicts(store)[("squid", "CVE-2025-62168")] == ("fixed", "changelog")
