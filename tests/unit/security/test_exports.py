"""OSV and CSAF VEX exports of the hand-checked world, validated against the official schemas.

The schemas are offline copies in tests/data/schemas (see PROVENANCE.md there).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from repotrack.errors import InputError
from repotrack.security import rematch_branch
from repotrack.security.exports import export_branch
from repotrack.store import Store
from tests.conftest import DATA
from tests.unit.security.world import BRANCH, build_world

SCHEMAS = DATA / "schemas"


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def errors(check: Draft202012Validator, document: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in check.iter_errors(document)]


@pytest.fixture
def matched(store: Store, tmp_path: Path) -> Store:
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    return store


def test_osv_export_is_valid_and_says_what_was_decided(matched: Store, tmp_path: Path) -> None:
    out = tmp_path / "osv"
    files = export_branch(
        matched, branch=BRANCH, fmt="osv", out=out, ecosystem="openEuler:24.03-LTS"
    )
    check = validator("osv-schema.json")
    documents = {p.name: json.loads(p.read_text()) for p in files}
    for name, document in documents.items():
        assert errors(check, document) == [], name
    # vulnerable or fixed: mc, squid, libXpm, ngircd, xz, tukit; samba and apparmor are
    # not affected and have no OSV record.
    assert sorted(documents) == sorted(
        f"x_repotrack-{BRANCH}-{v}.json"
        for v in (
            "CVE-2021-36370",
            "CVE-2025-62168",
            "CVE-2022-46285",
            "CVE-2020-14148",
            "CVE-2024-3094",
            "CVE-2099-0001",
        )
    )
    squid = documents[f"x_repotrack-{BRANCH}-CVE-2025-62168.json"]
    assert squid["upstream"] == ["CVE-2025-62168"]
    (affected,) = squid["affected"]
    assert affected["package"]["name"] == "squid"
    assert affected["ranges"][0]["events"] == [{"introduced": "0"}, {"fixed": "0:6.10-alt1"}]
    assert affected["database_specific"]["reason"] == "changelog"
    mc = documents[f"x_repotrack-{BRANCH}-CVE-2021-36370.json"]
    assert mc["affected"][0]["ranges"][0]["events"] == [{"introduced": "0"}]


def test_a_broken_osv_record_is_caught_by_the_schema() -> None:
    check = validator("osv-schema.json")
    bad = {"id": "ALT-1", "modified": "yesterday", "affected": [{"package": {"ecosystem": "ALT"}}]}
    assert len(errors(check, bad)) >= 3  # id prefix, timestamp, ecosystem and name


def test_csaf_vex_export_is_valid(matched: Store, tmp_path: Path) -> None:
    files = export_branch(matched, branch=BRANCH, fmt="csaf", out=tmp_path / "csaf")
    check = validator("csaf_json_schema.json")
    documents = {p.name: json.loads(p.read_text()) for p in files}
    assert len(documents) == 8
    for name, document in documents.items():
        assert errors(check, document) == [], name
    apparmor = documents["p10-cve-2017-6507.json"]["vulnerabilities"][0]
    assert apparmor["product_status"] == {"known_not_affected": ["p10:apparmor-0:2.10-alt1"]}
    assert "triage: tester not_affected" in apparmor["threats"][0]["details"]
    mc = documents["p10-cve-2021-36370.json"]["vulnerabilities"][0]
    assert mc["product_status"] == {"known_affected": ["p10:mc-0:4.8.21-alt1"]}
    assert mc["remediations"][0]["category"] == "none_available"


def test_osv_needs_an_ecosystem(matched: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="has no OSV ecosystem"):
        export_branch(matched, branch=BRANCH, fmt="osv", out=tmp_path)
    with pytest.raises(InputError, match="must be one of osv, csaf"):
        export_branch(matched, branch=BRANCH, fmt="oval", out=tmp_path)


def test_oval_export_is_valid_against_the_oval_xsds(matched: Store, tmp_path: Path) -> None:
    from lxml import etree

    from repotrack.security.oval_export import export_oval

    path = export_oval(
        matched,
        branch=BRANCH,
        out=tmp_path / "oval",
        namespace="io.repotrack",
        release_package="alt-release",
    )
    parser = etree.XMLParser(no_network=True, load_dtd=False, resolve_entities=False)
    schema = etree.XMLSchema(
        etree.parse(str(SCHEMAS / "oval" / "linux-definitions-schema.xsd"), parser)
    )
    document = etree.parse(str(path), parser)
    assert schema.validate(document), schema.error_log
    ns = {"d": "http://oval.mitre.org/XMLSchema/oval-definitions-5",
          "l": "http://oval.mitre.org/XMLSchema/oval-definitions-5#linux"}  # fmt: skip
    # Six vulnerabilities have a vulnerable or fixed package (see the OSV test).
    assert len(document.findall(".//d:definition", ns)) == 6
    states = {s.text for s in document.findall(".//l:rpminfo_state/l:evr", ns)}
    assert "0:6.10-alt1" in states  # squid is fixed in the branch's build
    squid = document.find(".//d:criterion[@comment='squid is earlier than 0:6.10-alt1']", ns)
    assert squid is not None
    mc = document.find(".//d:criterion[@comment='mc is installed']", ns)  # no fix yet
    assert mc is not None


def test_a_broken_oval_document_fails_the_xsd(tmp_path: Path) -> None:
    from lxml import etree

    parser = etree.XMLParser(no_network=True, load_dtd=False, resolve_entities=False)
    schema = etree.XMLSchema(
        etree.parse(str(SCHEMAS / "oval" / "linux-definitions-schema.xsd"), parser)
    )
    bad = etree.fromstring(
        b'<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5">'
        b"<definitions/></oval_definitions>"
    )
    assert not schema.validate(bad)  # no generator, empty definitions


def test_purls_name_the_vendor_and_the_branch_as_distro(matched: Store, tmp_path: Path) -> None:
    """The purl spec's rpm type: the namespace is the vendor (``fedora``, ``redhat``,
    ALT's ``altlinux``), the release a ``distro`` qualifier (``rocky-linux-9`` in Rocky's
    OSV records); qualifiers sorted by key, epoch only when not 0. A scanner matches an
    SBOM's ``pkg:rpm/altlinux/squid@…`` against these, never a branch as namespace."""
    osv = export_branch(
        matched, branch=BRANCH, fmt="osv", out=tmp_path / "osv", ecosystem="openEuler:24.03-LTS"
    )
    squid = json.loads(next(p for p in osv if "CVE-2025-62168" in p.name).read_text())
    assert squid["affected"][0]["package"]["purl"] == "pkg:rpm/altlinux/squid?distro=altlinux-p10"
    csaf = export_branch(
        matched, branch=BRANCH, fmt="csaf", out=tmp_path / "csaf", purl_vendor="openeuler"
    )
    document = json.loads(next(p for p in csaf if "cve-2025-62168" in p.name).read_text())
    text = json.dumps(document["product_tree"])
    purls = [part.split('"')[0] for part in text.split('"purl": "')[1:]]
    assert purls == ["pkg:rpm/openeuler/squid@6.10-alt1?arch=src&distro=openeuler-p10"]


def test_a_changed_csaf_document_gets_its_next_version(matched: Store, tmp_path: Path) -> None:
    """CSAF 2.0 §3.2.1.12: consumers treat an id and version as one document, so a
    re-export whose content changed must carry the next version and keep the earlier
    revisions; an unchanged one keeps its version. Before 2026-12-07 every export said
    version 1 with one revision."""
    from repotrack.security import record_triage

    def mc(run: str) -> dict[str, Any]:
        files = export_branch(matched, branch=BRANCH, fmt="csaf", out=tmp_path / run)
        return json.loads(next(p for p in files if "cve-2021-36370" in p.name).read_text())

    check = validator("csaf_json_schema.json")
    first = mc("first")
    assert first["document"]["tracking"]["version"] == "1"
    assert mc("again")["document"] == first["document"]  # nothing changed: same version

    record_triage(
        matched, vuln_id="CVE-2021-36370", pkg_name="mc", branch=BRANCH,
        status="not_affected", author="tester", reason="code not built",
    )  # fmt: skip
    rematch_branch(matched, branch=BRANCH)
    second = mc("second")
    assert errors(check, second) == []
    tracking = second["document"]["tracking"]
    assert tracking["version"] == "2"
    assert [r["number"] for r in tracking["revision_history"]] == ["1", "2"]
    assert tracking["initial_release_date"] == first["document"]["tracking"]["initial_release_date"]
    assert tracking["current_release_date"] == tracking["revision_history"][-1]["date"]
    assert tracking["current_release_date"] >= tracking["initial_release_date"]
    assert second["vulnerabilities"][0]["product_status"] == {
        "known_not_affected": ["p10:mc-0:4.8.21-alt1"]
    }
    # other documents did not change
    squid = [
        json.loads(p.read_text())["document"]["tracking"]["version"]
        for p in (tmp_path / "second").glob("*62168*")
    ]
    assert squid == ["1"]


def test_evidence_in_another_order_is_no_new_csaf_version(matched: Store, tmp_path: Path) -> None:
    """A verdict rewritten with the same evidence in another order (verdicts stored before
    2026-12-07 kept the order the engine gave them) exports the same documents. Before,
    apparmor's not-affected statement listed its evidence in the stored order, so its CSAF
    document got version 2 for nothing that changed; squid's OSV record changed too."""

    def exported(run: str, fmt: str, vuln: str) -> dict[str, Any]:
        options = {"ecosystem": "ALT Linux:p10"} if fmt == "osv" else {}
        files = export_branch(matched, branch=BRANCH, fmt=fmt, out=tmp_path / run, **options)
        return json.loads(next(p for p in files if vuln in p.name).read_text())

    csaf = exported("csaf1", "csaf", "2017-6507")
    osv = exported("osv1", "osv", "2025-62168")
    latest = (
        "FROM PackagesVulnerabilityVerdict WHERE pkgset_name = {b:String} "
        "AND pkg_name IN ('apparmor', 'squid') ORDER BY ts DESC LIMIT 1 BY pkg_name"
    )
    kinds = matched.query("SELECT pvv_evidence.kind " + latest, {"b": BRANCH})
    assert sorted(len(k) for (k,) in kinds) == [2, 2]
    matched.command(  # the same verdicts again, later, their evidence reversed
        "INSERT INTO PackagesVulnerabilityVerdict (pkgset_name, pkg_hash, pkg_name, "
        "pkg_version, pkg_release, vuln_id, vuln_hash, pvv_status, pvv_reason, "
        "`pvv_evidence.kind`, `pvv_evidence.ref`, `pvv_evidence.detail`, ts) "
        "SELECT pkgset_name, pkg_hash, pkg_name, pkg_version, pkg_release, vuln_id, "
        "vuln_hash, pvv_status, pvv_reason, arrayReverse(`pvv_evidence.kind`), "
        "arrayReverse(`pvv_evidence.ref`), arrayReverse(`pvv_evidence.detail`), "
        "ts + toIntervalSecond(1) " + latest,
        {"b": BRANCH},
    )
    again = exported("csaf2", "csaf", "2017-6507")
    assert again["document"]["tracking"]["version"] == "1"
    assert again["vulnerabilities"] == csaf["vulnerabilities"]
    assert exported("osv2", "osv", "2025-62168")["affected"] == osv["affected"]


def test_an_unchanged_verdict_keeps_its_date(matched: Store, tmp_path: Path) -> None:
    """A verdict is dated when it last changed, not when a rematch last wrote it, and an
    OSV record's ``modified`` follows. Before 2026-12-07 every full rematch moved every
    verdict's date and every exported record's ``modified``, with nothing changed."""
    from repotrack.security import record_triage
    from repotrack.security.queries import branch_verdicts

    def dates() -> dict[tuple[str, str], Any]:
        found = branch_verdicts(matched, branch=BRANCH, status="")
        return {(v.pkg_name, v.vuln_id): v.updated for v in found}

    def modified(run: str) -> dict[str, str]:
        out = tmp_path / run
        export_branch(matched, branch=BRANCH, fmt="osv", out=out, ecosystem="ALT Linux:p10")
        return {p.name: json.loads(p.read_text())["modified"] for p in out.glob("*.json")}

    before, records = dates(), modified("osv1")
    time.sleep(1.1)  # OSV dates are in seconds
    rematch_branch(matched, branch=BRANCH, full=True)
    assert dates() == before
    assert modified("osv2") == records

    record_triage(
        matched, vuln_id="CVE-2021-36370", pkg_name="mc", branch=BRANCH,
        status="fixed", author="tester", reason="patched by hand",
    )  # fmt: skip
    rematch_branch(matched, branch=BRANCH, full=True)
    after = dates()
    assert after[("mc", "CVE-2021-36370")] > before[("mc", "CVE-2021-36370")]
    assert {k: v for k, v in after.items() if k[0] != "mc"} == {
        k: v for k, v in before.items() if k[0] != "mc"
    }
    changed = {name for name, stamp in modified("osv3").items() if records.get(name) != stamp}
    assert [name for name in changed if "36370" not in name] == []
    assert len(changed) == 1
