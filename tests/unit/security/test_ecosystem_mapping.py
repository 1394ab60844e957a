"""``vulns map ecosystem``: a branch's packages mapped to a distribution's advisory stream.

AlmaLinux's OSV records, Red Hat's CSAF and OVAL name binary packages
(``python3-requests``), in a stream of their own (``AlmaLinux:8``); the matcher maps a
*source* package to ``osv:<stream>/<name>`` rows. Before this, a maintainer had to
write one mapping by hand per package and per binary name; the command writes, for
every source package of the branch (stand-ins included), its own name and the names
of its binaries in the set. The advisory here is AlmaLinux's real ALSA-2023:4520; the
version order is judged by librpm.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from repotrack.errors import InputError
from repotrack.ingest.vulns import load_vulns
from repotrack.security import list_mappings, rematch_branch, set_mapping, unset_mapping
from repotrack.security.ecosystem_mapping import sync_ecosystem
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.rpm.librpm import label_compare
from tests.unit.store.rows import load_branch_snapshot, package

BRANCH = "alma8"
STREAM = "AlmaLinux:8"
DAY = datetime(2026, 12, 1, tzinfo=UTC)
ADVISORY = "ALSA-2023:4520"
FIXED = ("0", "2.20.0", "3.el8_8")  # the advisory's fixed EVR (no epoch: 0)


def _snapshot(store: Store, day: datetime, release: str, first: int) -> None:
    """python-requests built as python3-requests, its source RPM not in the set."""
    srpm = f"python-requests-2.20.0-{release}.src.rpm"
    load_branch_snapshot(
        store,
        BRANCH,
        day,
        [],
        [
            package(first, "python3-requests", "2.20.0", release, arch="noarch", srcrpm=srpm),
            package(first + 1, "bash", "4.4.20", "4.el8", srcrpm="bash-4.4.20-4.el8.src.rpm"),
        ],
    )


def _status(store: Store) -> str:
    rows = store.query(
        "SELECT argMax(pvv_status, ts) FROM PackagesVulnerabilityVerdict "
        "WHERE pkgset_name = {b:String} AND pkg_name = 'python-requests' "
        "AND vuln_id = {v:String} GROUP BY pkg_name",
        {"b": BRANCH, "v": ADVISORY},
    )
    return str(rows[0][0]) if rows else ""


def test_the_stream_reaches_source_packages_through_their_binary_names(store: Store) -> None:
    _snapshot(store, DAY, "2.1.el8_1", 700)
    load_vulns(
        store, source="osv", paths=[need_fixtures("cve", "osv", "almalinux") / f"{ADVISORY}.json"]
    )
    rematch_branch(store, branch=BRANCH)
    assert _status(store) == ""  # not mapped: no pair

    done = sync_ecosystem(store, branch=BRANCH, stream=STREAM, user="tester")
    assert done.added == [
        ("bash", f"osv:{STREAM}/bash"),
        ("python-requests", f"osv:{STREAM}/python-requests"),
        ("python-requests", f"osv:{STREAM}/python3-requests"),
    ]
    again = sync_ecosystem(store, branch=BRANCH, stream=STREAM, user="tester")
    assert (again.added, again.present) == ([], 3)  # a re-run writes nothing

    run = rematch_branch(store, branch=BRANCH)
    assert run.kind == "full"  # mappings changed
    (cmp,) = label_compare([(("0", "2.20.0", "2.1.el8_1"), FIXED)])
    assert cmp < 0 and _status(store) == "vulnerable"

    # The fixed build arrives: librpm says it is not below the fixed EVR.
    _snapshot(store, DAY + timedelta(days=1), "3.el8_8", 710)
    sync_ecosystem(store, branch=BRANCH, stream=STREAM, user="tester")  # nothing new
    rematch_branch(store, branch=BRANCH)
    (cmp,) = label_compare([(("0", "2.20.0", "3.el8_8"), FIXED)])
    assert cmp == 0 and _status(store) == "fixed"


def test_a_mapping_unset_by_hand_is_not_written_again(store: Store) -> None:
    _snapshot(store, DAY, "2.1.el8_1", 700)
    result = f"osv:{STREAM}/python3-requests"
    set_mapping(store, pkg_name="python-requests", result=result, user="tester")
    unset_mapping(store, pkg_name="python-requests", result=result, user="tester")
    done = sync_ecosystem(store, branch=BRANCH, stream=STREAM, user="tester")
    assert ("python-requests", result) not in done.added and done.unset_by_hand == 1
    active = {(m.pkg_name, m.result, m.source) for m in list_mappings(store)}
    assert ("python-requests", result, "manual") not in active
    assert ("python-requests", f"osv:{STREAM}/python-requests", "ecosystem") in active


def test_a_stream_is_needed(store: Store) -> None:
    _snapshot(store, DAY, "2.1.el8_1", 700)
    for bad in ("", " AlmaLinux:8", "AlmaLinux:8 "):
        with pytest.raises(InputError, match="stream name such as AlmaLinux:8"):
            sync_ecosystem(store, branch=BRANCH, stream=bad, user="tester")
    assert list_mappings(store) == []  # nothing written


def test_a_stream_no_record_names_is_reported_with_those_named(store: Store) -> None:
    _snapshot(store, DAY, "2.1.el8_1", 700)
    load_vulns(
        store, source="osv", paths=[need_fixtures("cve", "osv", "almalinux") / f"{ADVISORY}.json"]
    )
    assert sync_ecosystem(store, branch=BRANCH, stream=STREAM, user="t").other_streams is None
    misspelt = sync_ecosystem(store, branch=BRANCH, stream="Almalinux:8", user="t")
    assert misspelt.other_streams == [STREAM]
