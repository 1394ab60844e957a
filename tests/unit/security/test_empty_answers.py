"""A branch is asked about by the name its loads store (lowercased, as ALTRepo's
``repo_loader`` stores it), and a question about a branch the store cannot answer is an
error, never an empty answer: "0 verdict(s)" for ``P10`` (stored as ``p10``), for a typo
or for a branch never matched read as "nothing open" (found 2026-12-07 trying the CLI as
a user would)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from repotrack.errors import NotFoundError
from repotrack.rpm import changelog_hash
from repotrack.security import rematch_branch, set_mapping
from repotrack.security.errata import branch_errata, build_branch_errata
from repotrack.security.exports import collect_advisories
from repotrack.security.queries import (
    branch_verdicts,
    last_packages_with_cve_fixed,
    package_verdicts,
    vulnerability_verdicts,
)
from repotrack.security.triage import record_triage
from repotrack.store import Store
from tests.unit.security.world import (
    BRANCH,
    DAY,
    PACKAGES,
    SQUID_FIX,
    build_world,
    verdicts,
)
from tests.unit.store.rows import load_branch_snapshot, package


def _asked(store: Store, branch: str) -> dict[str, Callable[[], Any]]:
    """Every question about one branch's vulnerabilities, by name."""
    return {
        "open": lambda: branch_verdicts(store, branch=branch),
        "package": lambda: package_verdicts(store, branch=branch, name="mc"),
        "cve": lambda: vulnerability_verdicts(store, vuln_id="CVE-2024-3094", branch=branch),
        "export": lambda: collect_advisories(store, branch=branch),
        "last fixed": lambda: last_packages_with_cve_fixed(store, branch=branch),
    }


def test_a_branch_is_asked_about_in_any_case(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    run = rematch_branch(store, branch=" P10 ")
    assert run.branch == BRANCH
    lower = {name: ask() for name, ask in _asked(store, BRANCH).items()}
    assert len(lower["open"]) == 3 and lower["package"] and lower["cve"]  # mc, tukit, xz
    for name, ask in _asked(store, "P10").items():
        assert ask() == lower[name], name


@pytest.mark.parametrize("question", ["open", "package", "cve", "export", "last fixed"])
def test_an_unknown_branch_is_not_an_empty_answer(
    store: Store, tmp_path: Path, question: str
) -> None:
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    with pytest.raises(NotFoundError, match=r"^no package set of branch p11$"):
        _asked(store, "P11")[question]()


@pytest.mark.parametrize("question", ["open", "package", "cve", "export"])
def test_a_branch_never_matched_says_so(store: Store, tmp_path: Path, question: str) -> None:
    build_world(store, tmp_path)  # loaded, not matched
    with pytest.raises(NotFoundError, match=r"p10 has not been matched.*vulns match -b p10"):
        _asked(store, BRANCH)[question]()
    assert last_packages_with_cve_fixed(store, branch="P10")  # changelogs need no rematch


def test_every_branch_asked_without_one(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    assert vulnerability_verdicts(store, vuln_id="CVE-2024-3094") == []  # nothing matched yet
    rematch_branch(store, branch=BRANCH)
    assert [v.status for v in vulnerability_verdicts(store, vuln_id="CVE-2024-3094")] == [
        "vulnerable"
    ]


def test_triage_named_in_capitals_applies_to_the_branch(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    record_triage(
        store,
        vuln_id="CVE-2024-3094",
        pkg_name="xz",
        branch="P10",
        status="not_affected",
        author="tester",
        reason="the backdoor's build step is not in our spec",
    )
    rematch_branch(store, branch=BRANCH)
    assert verdicts(store)["xz", "CVE-2024-3094"] == ("not_affected", "triage")


def test_errata_of_an_unknown_branch_are_an_error(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    with pytest.raises(NotFoundError, match=r"^no errata of p10 were built: run `repotrack"):
        branch_errata(store, branch=BRANCH, start=date(2000, 1, 1), end=date(2100, 1, 1))
    build_branch_errata(store, branch="P10")
    stored = branch_errata(store, branch=BRANCH, start=date(2000, 1, 1), end=date(2100, 1, 1))
    asked = branch_errata(store, branch="P10", start=date(2000, 1, 1), end=date(2100, 1, 1))
    assert stored and asked == stored
    for call in (
        lambda: build_branch_errata(store, branch="p11"),
        lambda: branch_errata(store, branch="p11", start=date(2000, 1, 1), end=date(2100, 1, 1)),
    ):
        with pytest.raises(NotFoundError, match=r"^no package set of branch p11$"):
            call()


def test_a_package_without_verdicts_says_why(store: Store, tmp_path: Path) -> None:
    """ "0 verdict(s)" for a package answers "is it vulnerable?" with "no"; it may only
    say so when the last rematch looked at the package with a mapping. Otherwise the
    question has no answer, and the error says why (found 2026-12-07 asking for a
    package the branch lacks, a binary package's name, and a package with no mapping)."""
    build_world(store, tmp_path)
    helpers = package(109, "squid-helpers", "6.10", srcrpm="squid-6.10-alt1.src.rpm")
    bare = package(110, "hello", "2.12", source=True)
    later = datetime(2025, 11, 2, tzinfo=UTC)
    squid_log = [(DAY, "Maintainer <m@example.org>", "6.10-alt2", changelog_hash(SQUID_FIX))]
    sources = [
        package(h, n, v, source=True, changelog=squid_log if n == "squid" else [])
        for h, n, v, _ in PACKAGES
    ] + [bare]  # the world's packages as build_world stored them, and hello
    load_branch_snapshot(store, BRANCH, later, sources, [helpers])
    rematch_branch(store, branch=BRANCH)
    assert package_verdicts(store, branch=BRANCH, name="mc")  # mapped and matched
    assert package_verdicts(store, branch=BRANCH, name="mc", status="not_affected") == []
    with pytest.raises(NotFoundError, match=r"^no source package bash in p10 "):
        package_verdicts(store, branch=BRANCH, name="bash")
    with pytest.raises(NotFoundError, match=r"squid-helpers is a binary package of p10 built "
                       r"from squid: ask for squid$"):  # fmt: skip
        package_verdicts(store, branch=BRANCH, name="squid-helpers")
    with pytest.raises(NotFoundError, match=r"^hello of p10 is mapped to no CPE or OSV "):
        package_verdicts(store, branch=BRANCH, name="hello")
    set_mapping(store, pkg_name="hello", result="cpe:2.3:a:gnu:hello:*:*:*:*:*:*:*:*",
                user="tester", reason="test")  # fmt: skip
    rematch_branch(store, branch=BRANCH)
    assert package_verdicts(store, branch=BRANCH, name="hello") == []  # mapped: none matched


def test_a_vulnerability_not_loaded_is_no_empty_answer(store: Store, tmp_path: Path) -> None:
    """ "0 verdict(s)" for a CVE reads as "no package of ours is affected"; for an id no
    loaded record has (nor names) nothing is known, and the error says so."""
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    with pytest.raises(NotFoundError, match=r"^no vulnerability CVE-2099-9999 is loaded"):
        vulnerability_verdicts(store, vuln_id="CVE-2099-9999")
    with pytest.raises(NotFoundError, match=r"^no vulnerability CVE-2099-9999 is loaded"):
        vulnerability_verdicts(store, vuln_id="CVE-2099-9999", branch=BRANCH)
    # loaded, and matched by no package: an answer
    assert vulnerability_verdicts(store, vuln_id="CVE-2022-32746", status="vulnerable") == []
