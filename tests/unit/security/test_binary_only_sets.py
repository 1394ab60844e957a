"""Branches loaded from binary RPMs alone are matched through their source RPM names.

A Fedora, openSUSE or RHEL-family repository usually ships its binary packages without
the source packages beside them, and so does a directory of RPMs a maintainer loads.
NVD and ALTRepo match by source name (``squid-helpers`` is judged as ``squid``); before
this, a set without source packages gave no pair at all, and ``vulns match`` said
"0 verdicts" for packages that were vulnerable.

The packages here are real third-party binary RPMs (``shared/fixtures/rpm``), loaded
with the loader; the records are NVD's, and the fixtures' provenance states which
package each one matches. Whether each version lies in its range is worked out by
librpm's ``labelCompare``, not by the project's own version order.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from repotrack.ingest.repo import load_repo
from repotrack.ingest.vulns import load_vulns
from repotrack.rpm import VersionOrder, changelog_hash, evr_key
from repotrack.security import rematch_branch, set_mapping
from repotrack.security.exports import collect_advisories
from repotrack.security.verdict import ELLIPSIS, EXCERPT_CHARS
from repotrack.store import Store
from tests.conftest import DATA, need_fixtures, need_tool
from tests.unit.rpm.librpm import label_compare
from tests.unit.security.test_altrepo_open_vulns import GET_PACKAGES_WITH_OPEN_VULN
from tests.unit.security.world import deletes_applied
from tests.unit.store.rows import load_branch_snapshot, package

BRANCH = "binaries"
CVE = "CVE-2025-62168"
DAY = date(2026, 12, 1)

#: fixture RPM, source name, mapping, NVD record, inclusive or exclusive end of its range
CASES = (
    (("opensuse", "mc-4.8.21-2.1.x86_64.rpm"), "mc",
     "cpe:2.3:a:midnight-commander:midnight_commander:*:*:*:*:*:*:*:*",
     "CVE-2021-36370", ("4.8.26", "including")),
    (("fedora", "ngircd-22-2.fc22.x86_64.rpm"), "ngircd",
     "cpe:2.3:a:barton:ngircd:*:*:*:*:*:*:*:*", "CVE-2020-14148", ("25.0", "including")),
    (("alt", "squid-helpers-6.10-alt1.x86_64.rpm"), "squid",
     "cpe:2.3:a:squid-cache:squid:*:*:*:*:*:*:*:*", "CVE-2025-62168", ("7.2", "excluding")),
)  # fmt: skip


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    for (where, name), *_ in CASES:
        (tree / name).symlink_to(need_fixtures("rpm", where, name))
    return tree


def _load(store: Store, tmp_path: Path) -> None:
    load_repo(store, branch=BRANCH, path=_tree(tmp_path), date=DAY)
    for _, source, cpe, _, _ in CASES:
        set_mapping(store, pkg_name=source, result=cpe, user="tester", reason="upstream name")
    records = need_fixtures("cve", "nvd-2.0", "records")
    summary = load_vulns(store, source="nvd", paths=[records / f"{c[3]}.json" for c in CASES])
    assert summary.problems == []


def _expected() -> dict[tuple[str, str], str]:
    """What librpm says: the binary's version against the record's end bound (the
    records give no start). A binary of a source build carries the source's version."""
    expected = {}
    for (where, name), source, _, cve, (end, kind) in CASES:
        query = [need_tool("rpm"), "-qp", "--nosignature", "--qf", "%{SOURCERPM} %{VERSION}"]
        done = subprocess.run(
            [*query, need_fixtures("rpm", where, name)], capture_output=True, text=True, check=True
        )
        sourcerpm, version = done.stdout.split()
        assert sourcerpm.startswith(f"{source}-{version}-")
        (cmp,) = label_compare([(("0", version, ""), ("0", end, ""))])
        inside = cmp <= 0 if kind == "including" else cmp < 0
        expected[(source, cve)] = "vulnerable" if inside else "fixed"
    return expected


def _verdicts(store: Store) -> dict[tuple[str, str], str]:
    rows = store.query(
        "SELECT pkg_name, vuln_id, argMax(pvv_status, ts) FROM PackagesVulnerabilityVerdict "
        "WHERE pkgset_name = {b:String} GROUP BY pkg_name, vuln_id",
        {"b": BRANCH},
    )
    return {(name, vuln): status for name, vuln, status in rows}


def test_binaries_without_their_sources_are_matched_by_the_source_name(
    store: Store, tmp_path: Path
) -> None:
    _load(store, tmp_path)
    run = rematch_branch(store, branch=BRANCH)
    expected = _expected()
    assert list(expected.values()) == ["vulnerable", "vulnerable", "vulnerable"]
    verdicts = _verdicts(store)
    assert {pair: verdicts.get(pair) for pair in expected} == expected
    # Every other verdict is a CVE the binaries' changelog names (rpm -q --changelog):
    # a backport, so fixed.
    named = _changelog_cves()
    assert {pair: status for pair, status in verdicts.items() if pair not in expected} == {
        pair: "fixed" for pair in named if pair not in expected
    }
    assert run.verdicts == len(verdicts) == len(expected | dict.fromkeys(named))
    # One target per source build, with the version of its source RPM's name.
    assert [t[:3] for t in _targets(store)] == [
        ("mc", "4.8.21", "2.1"), ("ngircd", "22", "2.fc22"), ("squid", "6.10", "alt1"),
    ]  # fmt: skip


def _changelog_cves() -> set[tuple[str, str]]:
    """(source name, CVE id) for each CVE id in a fixture binary's changelog, by rpm."""
    return {
        (source, cve)
        for source, printed in _rpm_changelogs().items()
        for cve in re.findall(r"CVE-\d{4}-\d{4,}", printed)
    }


def _rpm_changelogs() -> dict[str, str]:
    """Each fixture binary's changelog as ``rpm -q --changelog`` prints it, by source name."""
    return {
        source: subprocess.run(
            [need_tool("rpm"), "-qp", "--nosignature", "--changelog",
             need_fixtures("rpm", where, name)],
            capture_output=True, text=True, check=True,
        ).stdout
        for (where, name), source, *_ in CASES
    }  # fmt: skip


def test_binaries_whose_source_is_in_the_set_add_nothing(store: Store, tmp_path: Path) -> None:
    """The first snapshot holds rt-hello's binaries alone (stored with no source id); the
    next one adds the source packages: only they are matched then, and the earlier
    snapshot's stand-in for rt-hello is gone from the targets (the new set's sources
    are compared by name, version and release, not by the id a binary was stored with)."""
    rpms = DATA / "rpms"
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for rpm in rpms.glob("*.rpm"):
        (second / rpm.name).symlink_to(rpm)
        if rpm.name.startswith("rt-hello") and not rpm.name.endswith(".src.rpm"):
            (first / rpm.name).symlink_to(rpm)
    load_repo(store, branch=BRANCH, path=first, date=DAY)
    rematch_branch(store, branch=BRANCH)
    assert _targets(store) == [("rt-hello", "1.2.3", "4.rt1", False)]
    load_repo(store, branch=BRANCH, path=second, date=date(2026, 12, 2))
    for full in (False, True):
        rematch_branch(store, branch=BRANCH, full=full)
        assert _targets(store) == [
            ("rt-bz", "0.1", "0.1.20240101git", True),
            ("rt-hello", "1.2.3", "4.rt1", True),
            ("rt-tilde", "2.0~rc1", "1", True),
        ]


def _targets(store: Store) -> list[tuple[str, str, str, bool]]:
    """The newest targets generation's packages, each saying whether a stored source
    package has its id."""
    rows = store.query(
        "SELECT pkg_name, pkg_version, pkg_release, pkg_hash IN (SELECT pkg_hash FROM "
        "Packages_buffer WHERE pkg_sourcepackage = 1) FROM VulnMatchTargets "
        "WHERE pkgset_name = {b:String} AND pkg_cpe = '' AND vmt_run = (SELECT max(vmt_run) "
        "FROM VulnMatchTargets WHERE pkgset_name = {b:String}) ORDER BY pkg_name",
        {"b": BRANCH},
    )
    return [(name, version, release, bool(real)) for name, version, release, real in rows]


def test_a_stand_in_takes_its_binaries_changelog_and_epoch(store: Store, tmp_path: Path) -> None:
    """A changelog entry of the binaries naming the CVE fixes their stand-in (a backport),
    and the binaries' epoch is the stand-in's. The next snapshot drops the package: its
    verdict becomes ``unmatched``, the same after an incremental and a full rematch."""
    fix = "- Fixed CVE-2025-62168 (backport from 7.2)."
    day = datetime(2026, 12, 1, tzinfo=UTC)
    binary = package(
        901, "squid-helpers", "6.10", "alt2", epoch=1, srcrpm="squid-6.10-alt2.src.rpm",
        changelog=[(day, "Maintainer <m@example.org>", "1:6.10-alt2", changelog_hash(fix))],
    )  # fmt: skip
    other = package(902, "bash", "5.2", "alt1", srcrpm="bash-5.2-alt1.src.rpm")
    store.insert("Changelog_buffer", ("chlog_hash", "chlog_text"), [(changelog_hash(fix), fix)])
    load_branch_snapshot(store, BRANCH, day, [], [binary, other])
    set_mapping(store, pkg_name="squid", result=CASES[2][2], user="tester", reason="upstream")
    records = need_fixtures("cve", "nvd-2.0", "records")
    load_vulns(store, source="nvd", paths=[records / f"{CVE}.json"])
    rematch_branch(store, branch=BRANCH)
    ((status, reason, kinds),) = store.query(
        "SELECT pvv_status, pvv_reason, pvv_evidence.kind FROM PackagesVulnerabilityVerdict "
        "WHERE pkg_name = 'squid'"
    )
    assert (status, reason, sorted(kinds)) == ("fixed", "changelog", ["changelog", "range"])
    ((ekey,),) = store.query("SELECT any(ekey) FROM VulnMatchTargets WHERE pkg_name = 'squid'")
    assert ekey == evr_key(1, "6.10", "alt2", VersionOrder.RPM).decode("latin-1")
    # Exports write the stand-in's EVR with its epoch.
    (advisory,) = [a for a in collect_advisories(store, branch=BRANCH) if a.vuln_id == CVE]
    assert [advisory.evr(v) for v in advisory.verdicts] == ["1:6.10-alt2"]
    load_branch_snapshot(store, BRANCH, day + timedelta(days=1), [], [other])
    incremental = rematch_branch(store, branch=BRANCH)
    after_incremental = _verdicts(store)
    rematch_branch(store, branch=BRANCH, full=True)
    assert incremental.kind == "incremental"
    assert after_incremental == _verdicts(store) == {("squid", "CVE-2025-62168"): "unknown"}


def test_the_altrepo_api_lists_stand_ins_as_open(store: Store, tmp_path: Path) -> None:
    """The API's open-vulnerability query (quoted in test_altrepo_open_vulns.py) names
    each vulnerable stand-in; its version is empty there (the API takes versions from
    ``static_last_packages``, which holds stored packages only)."""
    _load(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    deletes_applied(store)
    for (_, _, _, cve, _), source in zip(CASES, ("mc", "ngircd", "squid"), strict=True):
        rows = store.query(GET_PACKAGES_WITH_OPEN_VULN, {"ids": [cve]})
        assert [(name, branch, version) for _, name, branch, version, _ in rows] == [
            (source, BRANCH, "")
        ]


def test_changelog_evidence_shows_the_lines_that_name_the_cve(store: Store, tmp_path: Path) -> None:
    """A changelog verdict's evidence holds the words that justify it. Real entries are
    long: squid's 2.5.STABLE9-alt3 entry (ALT's own squid) lists two dozen upstream fixes
    and names CVE-1999-0710 on its twentieth line, past the first 500 characters, which
    were all the evidence kept before. Every line of an excerpt is a line of the entry as
    ``rpm -q --changelog`` prints it (or a part of one, cut where it says so)."""
    _load(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    rows = store.query(
        "SELECT vuln_id, arrayJoin(arrayFilter((d, k) -> k = 'changelog', pvv_evidence.detail, "
        "pvv_evidence.kind)) FROM PackagesVulnerabilityVerdict WHERE pkgset_name = {b:String}",
        {"b": BRANCH},
    )
    assert ("CVE-1999-0710" in {vuln for vuln, _ in rows}) and len(rows) > 40
    printed = "\n".join(_rpm_changelogs().values())
    for vuln, detail in rows:
        assert vuln in detail, (vuln, detail)
        excerpt = detail.split(": ", 1)[1]
        assert len(excerpt) <= EXCERPT_CHARS
        for line in excerpt.split("\n"):
            assert line == ELLIPSIS or line.strip(ELLIPSIS) in printed, (vuln, line)


def test_a_long_entry_in_cyrillic_is_cut_between_characters(store: Store) -> None:
    """ALT's changelogs are often in Russian: two bytes a letter. An excerpt is cut at a
    character, never inside one (a cut letter made the verdict's text invalid UTF-8,
    which no terminal or JSON answer can carry)."""
    head = "- Обновление до новой версии " + "с исправлениями ошибок " * 12
    fix = f"{head}\n- Исправлена уязвимость {CVE} в разборе заголовков HTTP."
    assert len(head.encode()) > 500
    day = datetime(2026, 12, 1, tzinfo=UTC)
    binary = package(
        901, "squid-helpers", "6.10", "alt2", srcrpm="squid-6.10-alt2.src.rpm",
        changelog=[(day, "Мейнтейнер <m@example.org>", "6.10-alt2", changelog_hash(fix))],
    )  # fmt: skip
    store.insert("Changelog_buffer", ("chlog_hash", "chlog_text"), [(changelog_hash(fix), fix)])
    load_branch_snapshot(store, BRANCH, day, [], [binary])
    set_mapping(store, pkg_name="squid", result=CASES[2][2], user="tester", reason="upstream")
    records = need_fixtures("cve", "nvd-2.0", "records")
    load_vulns(store, source="nvd", paths=[records / f"{CVE}.json"])
    rematch_branch(store, branch=BRANCH)
    ((details,),) = store.query(
        "SELECT arrayFilter((d, k) -> k = 'changelog', pvv_evidence.detail, pvv_evidence.kind) "
        "FROM PackagesVulnerabilityVerdict WHERE pkg_name = 'squid'"
    )
    (detail,) = details
    detail.encode("utf-8")  # no half letter (it would be a lone surrogate here)
    assert detail.startswith("2026-12-01: - Обновление до новой версии")
    assert f"- Исправлена уязвимость {CVE} в разборе заголовков HTTP." in detail
    assert len(detail.split(": ", 1)[1]) <= EXCERPT_CHARS


def test_a_store_matched_before_the_excerpts_gets_them_at_the_next_run(
    store: Store, tmp_path: Path
) -> None:
    """Mentions are kept between runs; those written before (run format 3, the first 500
    bytes of the entry) are rewritten by the next run, which is a full one."""
    _load(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    for sql in (
        "ALTER TABLE VulnMatchMentions UPDATE detail = substring(detail, 1, 40) WHERE 1",
        "ALTER TABLE VulnMatchRuns UPDATE vmr_format = 3 WHERE 1",
    ):
        store.command(sql + " SETTINGS mutations_sync = 1")
    assert rematch_branch(store, branch=BRANCH).kind == "full"
    ((detail,),) = store.query(
        "SELECT detail FROM VulnMatchMentions WHERE vuln_id = 'CVE-1999-0710' AND vmt_run = "
        "(SELECT max(vmt_run) FROM VulnMatchMentions)"
    )
    assert "Fix for CVE-1999-0710: cachemgr" in detail


ERRATA_SPEC = """\
Name: rt-vulnfix
Version: 2.4
Release: alt3
Summary: a package whose latest changelog entry names two CVEs
License: MIT
BuildArch: noarch
%description
A package whose latest changelog entry names two CVEs.
%package doc
Summary: its documentation
%description doc
Its documentation.
%files
%files doc
%changelog
* Mon Nov 30 2026 Maintainer <m@example.org> 2.4-alt3
- Fixed CVE-2026-10001 (heap overflow in the parser).
- Fixed CVE-2026-2002, CVE-2026-10001 again (backports).

* Mon Nov 02 2026 Maintainer <m@example.org> 2.4-alt2
- Fixed CVE-2026-0999.
"""


def _built_vulnfix(tmp_path: Path) -> tuple[list[Path], Path]:
    """rt-vulnfix's two binary RPMs and its source RPM, built with rpmbuild."""
    top = tmp_path / "rpmbuild"
    spec = tmp_path / "rt-vulnfix.spec"
    spec.write_text(ERRATA_SPEC)
    subprocess.run(
        [need_tool("rpmbuild"), "-ba", "--quiet", "--define", f"_topdir {top}", str(spec)],
        check=True, capture_output=True,
    )  # fmt: skip
    binaries = sorted((top / "RPMS" / "noarch").glob("*.rpm"))
    (source,) = (top / "SRPMS").glob("*.rpm")
    return binaries, source


def _latest_entry_cves(rpm: Path) -> list[str]:
    """The CVE ids of the latest changelog entry as ``rpm -q --changelog`` prints it."""
    printed = subprocess.run(
        [need_tool("rpm"), "-qp", "--nosignature", "--changelog", rpm],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    latest = printed.split("\n\n", 1)[0]
    return sorted(set(re.findall(r"CVE-\d{4}-\d{4,}", latest)))


def test_errata_of_a_branch_of_binaries_come_from_their_changelog(
    store: Store, tmp_path: Path
) -> None:
    """A branch without tasks gets an ``ALT-PU`` per source package whose latest changelog
    entry names CVEs; in a branch of binaries alone the source is its stand-in, with the
    binaries' changelog (two binaries of one build: one erratum). Loading the source RPM
    beside them gives the same erratum under the source package's own id."""
    from repotrack.security.errata import build_branch_errata

    binaries, source = _built_vulnfix(tmp_path)
    cves = _latest_entry_cves(binaries[0])
    assert cves == ["CVE-2026-10001", "CVE-2026-2002"]
    assert all(_latest_entry_cves(rpm) == cves for rpm in binaries)
    tree = tmp_path / "tree"
    tree.mkdir()
    for rpm in binaries:
        (tree / rpm.name).symlink_to(rpm)
    load_repo(store, branch=BRANCH, path=tree, date=DAY)
    built = build_branch_errata(store, branch=BRANCH, user="tester")
    assert len(built.created) == 1 and built.bulletin.startswith("ALT-BU-")
    rows = store.query(
        "SELECT pkg_hash, pkg_name, pkg_version, pkg_release, eh_references.type, "
        "eh_references.link FROM ErrataHistory WHERE eh_type = 'branch'"
    )
    ((stand_in, *package, kinds, links),) = rows
    assert package == ["rt-vulnfix", "2.4", "alt3"]
    assert (kinds, links) == (["vuln"] * len(cves), cves)
    ((expected_id,),) = store.query("SELECT murmurHash3_64('source rpm', 'rt-vulnfix-2.4-alt3')")
    assert stand_in == expected_id
    assert build_branch_errata(store, branch=BRANCH, user="tester").unchanged == 1

    # The next day's snapshot holds the source RPM too: its own package is the erratum's.
    (tree / source.name).symlink_to(source)
    load_repo(store, branch="with-sources", path=tree, date=DAY)
    again = build_branch_errata(store, branch="with-sources", user="tester")
    assert len(again.created) == 1
    ((pkg_hash, links),) = store.query(
        "SELECT pkg_hash, eh_references.link FROM ErrataHistory "
        "WHERE eh_type = 'branch' AND pkgset_name = 'with-sources'"
    )
    ((source_hash,),) = store.query(
        "SELECT pkg_hash FROM Packages_buffer WHERE pkg_name = 'rt-vulnfix' "
        "AND pkg_sourcepackage = 1"
    )
    assert (pkg_hash, links) == (source_hash, cves)
