"""A triage decision applies only where a rematch finds its names: a loaded record's id, a
source package of the branch and the branch. One naming anything else is refused (unless
forced) and nothing is recorded: before 2026-12-07 ``vulns triage CVE-2024-3094 xzz -s
not_affected`` printed the decision back as done, and xz stayed vulnerable at every
rematch while its maintainer believed it triaged (found trying the CLI as a user would)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.errors import NotFoundError
from repotrack.security import rematch_branch
from repotrack.security.triage import record_triage
from repotrack.store import Store
from tests.unit.security.world import BRANCH, build_world, verdicts
from tests.unit.store.rows import load_branch_snapshot, package

#: Decisions the world itself records (apparmor's): the count a refused one leaves.
_WORLD_DECISIONS = 1


def _decisions(store: Store) -> int:
    ((count,),) = store.query("SELECT count() FROM VulnerabilityStatus")
    return int(count)


def _triage(store: Store, *, vuln_id: str = "CVE-2024-3094", pkg_name: str = "xz",
            branch: str = BRANCH, force: bool = False) -> None:  # fmt: skip
    record_triage(
        store,
        vuln_id=vuln_id,
        pkg_name=pkg_name,
        branch=branch,
        status="not_affected",
        author="tester",
        **({"force": True} if force else {}),
    )


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"pkg_name": "xzz"}, r"^no source package xzz in p10 \(--force records it anyway"),
        ({"pkg_name": "xzz", "branch": "*"}, r"^no source package xzz in any branch \(--force"),
        ({"branch": "p11"}, r"^no package set of branch p11$"),
        ({"vuln_id": "CVE-2099-9999"}, r"^no vulnerability CVE-2099-9999 is loaded \(--force"),
        ({"pkg_name": "liblzma5"}, r"^liblzma5 is a binary package of p9 built from xz: .*xz$"),
    ],
)
def test_a_decision_that_could_never_apply_is_refused(
    store: Store, tmp_path: Path, names: dict[str, str], message: str
) -> None:
    build_world(store, tmp_path)
    binary = package(901, "liblzma5", "5.6.1", srcrpm="xz-5.6.1-alt1.src.rpm")
    load_branch_snapshot(store, "p9", datetime(2025, 11, 1, tzinfo=UTC), [], [binary])
    if names.get("pkg_name") == "liblzma5":
        names = {**names, "branch": "p9"}
    with pytest.raises(NotFoundError, match=message):
        _triage(store, **names)  # type: ignore[arg-type]
    assert _decisions(store) == _WORLD_DECISIONS
    rematch_branch(store, branch=BRANCH)
    assert verdicts(store)["xz", "CVE-2024-3094"] == ("vulnerable", "range")


def test_a_source_the_branch_has_only_as_binaries_is_triaged(store: Store, tmp_path: Path) -> None:
    """A branch of binaries alone (createrepo trees) is matched by stand-ins named after
    the source RPMs: their names are source packages for triage too."""
    build_world(store, tmp_path)
    binary = package(901, "liblzma5", "5.6.1", srcrpm="xz-5.6.1-alt1.src.rpm")
    load_branch_snapshot(store, "p9", datetime(2025, 11, 1, tzinfo=UTC), [], [binary])
    _triage(store, branch="p9")
    _triage(store, branch="*")
    assert _decisions(store) == _WORLD_DECISIONS + 2


def test_an_id_only_named_by_records_points_at_them(store: Store, tmp_path: Path) -> None:
    """Verdicts carry the id of the record that matched (a GHSA or OSV record naming a
    CVE has its own), so a decision on the named id alone would never apply."""
    build_world(store, tmp_path)
    store.insert(
        "Vulnerabilities",
        ("vuln_id", "vuln_hash", "vuln_type", "vuln_references.type", "vuln_references.link"),
        [("GHSA-0000-0000-0001", 1, "GHSA", ["CVE"], ["CVE-2099-4242"])],
    )
    named = r"^no record CVE-2099-4242 is loaded.*triage one of GHSA-0000-0000-0001$"
    with pytest.raises(NotFoundError, match=named):
        _triage(store, vuln_id="CVE-2099-4242")


def test_forced_it_is_recorded_and_applies_once_loaded(store: Store, tmp_path: Path) -> None:
    """Forced, a decision may come first: for a package about to enter the branch, say."""
    _triage(store, force=True)  # nothing is loaded at all yet
    assert _decisions(store) == 1
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    assert verdicts(store)["xz", "CVE-2024-3094"] == ("not_affected", "triage")


def test_the_names_of_the_branch_are_triaged(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    _triage(store)
    _triage(store, branch="*", pkg_name="mc", vuln_id="CVE-2021-36370")
    rematch_branch(store, branch=BRANCH)
    seen = verdicts(store)
    assert seen["xz", "CVE-2024-3094"] == ("not_affected", "triage")
    assert seen["mc", "CVE-2021-36370"] == ("not_affected", "triage")


def test_a_bdu_record_points_at_its_cves(store: Store, tmp_path: Path) -> None:
    """A BDU record has no ranges, so no verdict of its own: its CVEs' verdicts answer
    for it (``vulns cve BDU:...``), and a decision must name one of them."""
    build_world(store, tmp_path)
    store.insert(
        "Vulnerabilities",
        ("vuln_id", "vuln_hash", "vuln_type", "vuln_references.type", "vuln_references.link"),
        [("BDU:2024-02233", 1, "BDU", ["CVE", "URL"], ["CVE-2024-3094", "https://bdu/x"])],
    )
    with pytest.raises(
        NotFoundError, match=r"^BDU:2024-02233 is a BDU record: .*\(CVE-2024-3094\)$"
    ):
        _triage(store, vuln_id="BDU:2024-02233")
    assert _decisions(store) == _WORLD_DECISIONS
