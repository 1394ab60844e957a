"""§6.3 matching in SQL and the verdicts with their evidence, on the hand-checked world."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repotrack.errors import NotFoundError
from repotrack.ingest.vulns import load_vulns
from repotrack.rpm import VersionOrder
from repotrack.security import rematch_branch, set_mapping, unset_mapping
from repotrack.security.queries import fixed_across_branches
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.security.world import BRANCH, DAY, SYNTHETIC, build_world, verdicts
from tests.unit.store.rows import load_branch_snapshot, package

LIBXPM = "cpe:2.3:a:x.org:libxpm:*:*:*:*:*:*:*:*"
EXPECTED = {
    ("mc", "CVE-2021-36370"): ("vulnerable", "range"),
    ("squid", "CVE-2025-62168"): ("fixed", "changelog"),
    ("libXpm", "CVE-2022-46285"): ("fixed", "patch"),
    ("ngircd", "CVE-2020-14148"): ("fixed", "newer_version"),
    ("samba", "CVE-2022-32746"): ("not_affected", "before_range"),
    ("apparmor", "CVE-2017-6507"): ("not_affected", "triage"),
    ("xz", "CVE-2024-3094"): ("vulnerable", "range"),
    ("tukit", "CVE-2099-0001"): ("vulnerable", "range"),
}


def test_full_rematch_gives_the_hand_checked_verdicts(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    run = rematch_branch(store, branch=BRANCH)
    assert run.kind == "full"
    assert verdicts(store) == EXPECTED


def test_alt_order_puts_a_letter_segment_above_a_digit_one(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH, order=VersionOrder.ALT)
    # 1.a <= 1.1 for librpm, but 1.a > 1.1 for ALT's rpm: past the range, so fixed.
    assert verdicts(store)[("tukit", "CVE-2099-0001")] == ("fixed", "newer_version")
    assert verdicts(store)[("mc", "CVE-2021-36370")] == ("vulnerable", "range")


def matched_evidence(store: Store, tmp_path: Path) -> dict[str, list[tuple[str, str, str]]]:
    """The hand-checked world matched: each package's stored evidence rows, as stored."""
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    rows = store.query(
        "SELECT pkg_name, pvv_evidence.kind, pvv_evidence.ref, pvv_evidence.detail "
        "FROM PackagesVulnerabilityVerdict WHERE pkgset_name = {b:String}",
        {"b": BRANCH},
    )
    return {name: list(zip(k, r, d, strict=True)) for name, k, r, d in rows}


def test_every_verdict_keeps_its_evidence(store: Store, tmp_path: Path) -> None:
    evidence = {name: sorted(rows) for name, rows in matched_evidence(store, tmp_path).items()}
    assert evidence["mc"] == [
        (
            "range",
            "cpe:2.3:a:midnight-commander:midnight_commander:*:*:*:*:*:*:*:*",
            "[, 4.8.26]",
        )
    ]
    squid = dict((k, (r, d)) for k, r, d in evidence["squid"])
    assert squid["changelog"][0] == "6.10-alt2"
    assert "CVE-2025-62168" in squid["changelog"][1]
    assert squid["range"][1] == "[, 7.2)"  # still matched: the changelog wins
    assert ("patch", "libXpm-CVE-2022-46285-infinite-loop.patch", "libXpm.spec") in evidence[
        "libXpm"
    ]
    assert ("triage", "tester", "not_affected: profiles are not shipped") in evidence["apparmor"]
    # ngircd 26.1 is past both ranges of CVE-2020-14148: (, 25.0] and [26.0, 26.0].
    assert sorted(k for k, _, _ in evidence["ngircd"]) == ["range_above", "range_above"]


def test_evidence_is_stored_deciding_kind_first(store: Store, tmp_path: Path) -> None:
    """A verdict's evidence rows are stored in one order: by the rule they stand for (the
    deciding one first, as the rules are listed in verdict.py), then by what they name.
    Before 2026-12-07 they came in the order the engine's threads gave them, which changed
    from run to run (4 474 of 16 280 verdicts of ``benchmarks/vuln_match.py`` between two
    full rematches), and so did every listing and export built from them: a CSAF document
    got a new version for evidence put in another order."""
    rules = ["triage", "checked", "vex", "errata", "changelog", "patch", "range",
             "range_unknown", "range_above", "range_below"]  # fmt: skip
    stored = matched_evidence(store, tmp_path)
    for name, evidence in stored.items():
        assert evidence == sorted(evidence, key=lambda e: (rules.index(e[0]), e)), name
    assert [kind for kind, _, _ in stored["apparmor"]] == ["triage", "range"]
    assert [kind for kind, _, _ in stored["squid"]] == ["changelog", "range"]


def test_a_stored_digest_is_the_one_a_rematch_compares(store: Store, tmp_path: Path) -> None:
    """``pvv_digest`` is filled by its column default (migration 0019), and a rematch
    computes the same expression on its new verdicts to tell an unchanged verdict (which
    keeps its ``pvv_since``): the two must agree on every stored row, old-style unsorted
    evidence included."""
    from repotrack.security.verdict import verdict_digest_sql

    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    rows = "FROM PackagesVulnerabilityVerdict WHERE pkgset_name = {b:String}"
    ((count, differ),) = store.query(
        f"SELECT count(), countIf(pvv_digest != {verdict_digest_sql()}) {rows}", {"b": BRANCH}
    )
    assert (count, differ) == (len(EXPECTED), 0)
    ((same,),) = store.query(  # the evidence reversed: the same digest
        "SELECT countIf(pvv_digest = cityHash64(pkg_hash, toString(pvv_status), "
        "toString(pvv_reason), arraySort(arrayZip(arrayReverse(`pvv_evidence.kind`), "
        f"arrayReverse(`pvv_evidence.ref`), arrayReverse(`pvv_evidence.detail`))))) {rows}",
        {"b": BRANCH},
    )
    assert same == len(EXPECTED)


def test_altrepo_tables_agree_with_the_verdicts(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    status = store.query(
        "SELECT pkg_name, vuln_id, is_vulnerable, is_fixed FROM PackagesVulnerabilityStatus "
        "FINAL WHERE pkgset_name = {b:String} ORDER BY pkg_name",
        {"b": BRANCH},
    )
    expected = sorted(
        (name, vuln, int(s == "vulnerable"), int(s == "fixed"))
        for (name, vuln), (s, _) in EXPECTED.items()
    )
    assert sorted(tuple(r) for r in status) == expected
    # PackagesCveMatch: one row per package × range sharing the CPE triplet, by hand:
    # mc 1, squid 1, libXpm 1, ngircd 2, samba 3, apparmor 1, xz 2, tukit 1.
    matches = store.query(
        "SELECT pkg_name, count(), sum(is_vulnerable) FROM PackagesCveMatch FINAL "
        "GROUP BY pkg_name ORDER BY pkg_name"
    )
    assert [tuple(r) for r in matches] == [
        ("apparmor", 1, 1),
        ("libXpm", 1, 1),
        ("mc", 1, 1),
        ("ngircd", 2, 0),
        ("samba", 3, 0),
        ("squid", 1, 1),
        ("tukit", 1, 1),
        ("xz", 2, 1),
    ]


def test_incremental_rematch_touches_only_changed_vulnerabilities(
    store: Store, tmp_path: Path
) -> None:
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    again = rematch_branch(store, branch=BRANCH)
    assert (again.kind, again.vulnerabilities, again.verdicts) == ("incremental", 0, 0)
    # A new version of the made-up record moves the end bound below 1.a: no longer in range.
    changed = dict(SYNTHETIC, lastModified="2099-02-01T00:00:00.000")
    changed["configurations"] = json.loads(
        json.dumps(SYNTHETIC["configurations"]).replace('"1.1"', '"0.9"')
    )
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "CVE-2099-0001.json").write_text(json.dumps(changed))
    assert load_vulns(store, source="nvd", paths=[tmp_path / "new"]).written == 1
    run = rematch_branch(store, branch=BRANCH)
    assert (run.kind, run.vulnerabilities, run.verdicts) == ("incremental", 1, 1)
    after = verdicts(store)
    assert after[("tukit", "CVE-2099-0001")] == ("fixed", "newer_version")
    assert after[("mc", "CVE-2021-36370")] == ("vulnerable", "range")  # untouched


def test_a_removed_mapping_clears_its_verdicts(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    unset_mapping(
        store,
        pkg_name="mc",
        result="cpe:2.3:a:midnight-commander:midnight_commander:*:*:*:*:*:*:*:*",
        user="tester",
    )
    run = rematch_branch(store, branch=BRANCH)
    assert run.kind == "full"  # mappings changed: incremental would miss pairs
    assert verdicts(store)[("mc", "CVE-2021-36370")] == ("unknown", "unmatched")


def test_a_vendor_not_affected_statement_and_an_evr_range(store: Store, tmp_path: Path) -> None:
    build_world(store, tmp_path)
    csaf = need_fixtures("cve", "redhat", "csaf", "rhsa-2025_23414.json")
    assert load_vulns(store, source="csaf", paths=[csaf]).written == 1
    # bind-chroot is known_not_affected; bind is fixed in 32:9.8.2-0.68.rc1.el6_10.17.
    set_mapping(
        store, pkg_name="samba", result="osv:cpe:/o:redhat:rhel_els:6/bind-chroot", user="t"
    )
    set_mapping(store, pkg_name="xz", result="osv:cpe:/o:redhat:rhel_els:6/bind", user="t")
    rematch_branch(store, branch=BRANCH)
    after = verdicts(store)
    assert after[("samba", "RHSA-2025:23414")] == ("not_affected", "vex")
    # xz 0:5.6.1-alt1 is below epoch 32: inside the EVR range.
    assert after[("xz", "RHSA-2025:23414")] == ("vulnerable", "range")


def test_cve5_unaffected_versions_are_not_affected_statements(store: Store, tmp_path: Path) -> None:
    """A CVE record with defaultStatus affected lists its fixed versions as unaffected
    (the kernel CNA's style): a package in one of them is not affected, one outside them
    is vulnerable."""
    build_world(store, tmp_path)
    record = {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {
            "cveId": "CVE-2099-0002",
            "state": "PUBLISHED",
            "datePublished": "2099-01-01T00:00:00Z",
            "dateUpdated": "2099-01-01T00:00:00Z",
        },
        "containers": {
            "cna": {
                "descriptions": [{"lang": "en", "value": "made up"}],
                "affected": [
                    {
                        "vendor": "midnight-commander",
                        "product": "midnight_commander",
                        "defaultStatus": "affected",
                        "versions": [
                            {"version": "4.8.20", "lessThanOrEqual": "4.8.*",
                             "status": "unaffected", "versionType": "semver"},
                        ],
                    },
                    {
                        "vendor": "tukaani",
                        "product": "xz",
                        "defaultStatus": "affected",
                        "versions": [
                            {"version": "5.6.2", "lessThan": "*", "status": "unaffected",
                             "versionType": "semver"},
                        ],
                    },
                ],
            }
        },
    }  # fmt: skip
    (tmp_path / "CVE-2099-0002.json").write_text(json.dumps(record))
    assert load_vulns(store, source="cve5", paths=[tmp_path / "CVE-2099-0002.json"]).written == 1
    rematch_branch(store, branch=BRANCH)
    found = verdicts(store)
    assert found[("mc", "CVE-2099-0002")] == ("not_affected", "vex")
    assert found[("xz", "CVE-2099-0002")] == ("vulnerable", "range")


def test_a_patch_named_in_lower_case_is_evidence_too(store: Store) -> None:
    """A spec's ``Patch`` lines are found whatever their case, and so is the id in the
    file name: ``libxpm-cve-2022-46285.patch`` names CVE-2022-46285 (before, such a line
    was found and then yielded no id, and the package was judged vulnerable)."""
    spec = (
        "Name: libXpm\nVersion: 3.5.13\npatch0: libxpm-alt-build.patch\n"
        "patch1: libxpm-cve-2022-46285.patch\n"
    )
    store.insert(
        "Specfiles_buffer",
        ("pkg_hash", "pkg_name", "pkg_epoch", "pkg_version", "pkg_release", "specfile_name",
         "specfile_date", "specfile_content"),
        [(103, "libXpm", 0, "3.5.13", "alt1", "libXpm.spec", DAY, spec)],
    )  # fmt: skip
    load_branch_snapshot(store, BRANCH, DAY, [package(103, "libXpm", "3.5.13", source=True)], [])
    set_mapping(store, pkg_name="libXpm", result=LIBXPM, user="tester", reason="upstream")
    records = need_fixtures("cve", "nvd-2.0", "records")
    load_vulns(store, source="nvd", paths=[records / "CVE-2022-46285.json"])
    rematch_branch(store, branch=BRANCH)
    assert verdicts(store) == {("libXpm", "CVE-2022-46285"): ("fixed", "patch")}
    ((refs,),) = store.query(
        "SELECT arrayFilter((r, k) -> k = 'patch', pvv_evidence.ref, pvv_evidence.kind) "
        "FROM PackagesVulnerabilityVerdict"
    )
    assert refs == ["libxpm-cve-2022-46285.patch"]


def test_where_fixed_tells_a_record_that_matched_nothing_from_one_not_loaded(
    store: Store, tmp_path: Path
) -> None:
    """``vulns fixed`` has no branch to name in both cases, but only one of them is cured
    by loading the record: a loaded record that no mapped package matched was answered
    "load it and rematch a branch first", which the user had just done."""
    build_world(store, tmp_path)
    records = need_fixtures("cve", "nvd-2.0", "records")
    load_vulns(store, source="nvd", paths=[records / "CVE-2024-47177.json"])  # cups-filters
    rematch_branch(store, branch=BRANCH)
    with pytest.raises(NotFoundError, match="no verdict names CVE-1999-0001; load it"):
        fixed_across_branches(store, vuln_id="CVE-1999-0001")
    with pytest.raises(NotFoundError) as raised:
        fixed_across_branches(store, vuln_id="CVE-2024-47177")
    assert str(raised.value) == (
        "CVE-2024-47177 is loaded, but no package of a rematched branch matched it "
        "(is the affected package mapped? see `repotrack vulns map`)"
    )
