"""CSAF VEX exports checked against the rules of CSAF 2.0 §6 that the JSON schema cannot state.

A document that passes the schema can still fail the standard's mandatory tests (§6.1:
product ids defined once and used, no contradicting product status, the VEX profile's
impact and action statements, the revision history, …), and consumers such as
Secvisogram, the BSI validator service, aggregators and Dependency-Track refuse it.
The recommended tests (§6.2) are warnings; the ones the export can meet it meets, and
the others are listed in ``LEFT`` with the reason.

Two stores are exported: the hand-checked world (every verdict status and reason, an
erratum, a triage decision) and a mixed one (several branches, epochs, ``~`` in
versions and releases, a binary whose source package the set lacks, long and odd
package names). Each rule is asserted in Python; the reference implementation of the
tests (``@secvisogram/csaf-validator-lib``, from npm) also runs when ``node`` is
installed and ``CSAF_VALIDATOR_LIB`` names the library's directory
(``…/node_modules/@secvisogram/csaf-validator-lib``), and the test says why it skips
otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from repotrack.ingest.vulns import load_vulns
from repotrack.security import record_triage, rematch_branch, set_mapping
from repotrack.security.errata import build_branch_errata
from repotrack.security.exports import export_branch
from repotrack.store import Store
from tests.unit.security.world import BRANCH, build_world
from tests.unit.store.rows import load_branch_snapshot, package

RUNNER = Path(__file__).with_name("csaf_validate.mjs")

#: Recommended tests (§6.2) the export does not meet, and why.
LEFT: dict[str, str] = {
    # A stored record keeps a score but no CVSS vector, and a CSAF score needs one.
    "optionalTest_6_2_3": "missing score",
    # Sharing rules are the publisher's decision, not the exporter's.
    "optionalTest_6_2_10": "missing TLP label",
    # The export does not know where the documents will be published.
    "optionalTest_6_2_11": "missing canonical URL",
    # Summaries are quoted from their sources (NVD in English, BDU in Russian, …).
    "optionalTest_6_2_12": "missing document language",
    # The branch has no identifier of its own (no CPE or purl for a distribution branch).
    "optionalTest_6_2_16": "missing product identification helper",
}

MIXED_DAY = datetime(2025, 5, 1, tzinfo=UTC)
LONG_NAME = "python3-module-" + "very-long_odd.name+plus" * 8
#: source packages of the mixed store: hash, name, version, release, epoch, CPE product
MIXED = (
    (301, "perl-Foo", "2.0~rc1", "alt1", 1, "foo:perl-foo"),
    (302, "lib++c", "1.0", "alt0.1.git~abc", 2, "x:libcc"),
    (303, LONG_NAME, "3.4.5", "alt1_2", 0, "x:long"),
    (304, "kernel-image-std-def", "6.1.100", "alt1", 0, "linux:kernel"),
    (305, "kernel-image-un-def", "6.1.100", "alt1", 0, "linux:kernel"),
    (306, "gcc12", "12.2.1", "alt1", 0, "gnu:gcc"),
)
#: NVD records of the mixed store: id, CPE product, versionEndIncluding, versionStartIncluding
MIXED_RECORDS = (
    ("CVE-2024-1001", "foo:perl-foo", "2.0", ""),
    ("CVE-2024-1002", "x:libcc", "1.1", ""),
    ("CVE-2024-1003", "x:long", "9.0", ""),
    ("CVE-2024-1004", "linux:kernel", "6.1.99", ""),
    ("CVE-2024-1005", "linux:kernel", "7.0", "6.2"),
    ("CVE-2024-1006", "gnu:gcc", "12.3", ""),
    ("CVE-2024-1007", "x:orphan", "1.0", ""),
)


def _cpe(product: str) -> str:
    return f"cpe:2.3:a:{product}:*:*:*:*:*:*:*:*"


def _nvd(vuln_id: str, product: str, end: str, start: str) -> dict[str, Any]:
    match: dict[str, Any] = {
        "vulnerable": True,
        "criteria": _cpe(product),
        "versionEndIncluding": end,
        "matchCriteriaId": "00000000-0000-0000-0000-000000000002",
    }
    if start:
        match["versionStartIncluding"] = start
    return {
        "id": vuln_id,
        "published": "2024-01-01T00:00:00.000",
        "lastModified": "2024-02-02T00:00:00.000",
        "vulnStatus": "Analyzed",
        "descriptions": [{"lang": "en", "value": f"{vuln_id} (a made-up record)."}],
        "references": [{"url": "https://example.org/advisory", "source": "example"}],
        "configurations": [{"nodes": [{"operator": "OR", "negate": False, "cpeMatch": [match]}]}],
    }


def build_mixed(store: Store, tmp: Path) -> list[str]:
    """Three branches of the same packages (sisyphus one version ahead, p11 without gcc12),
    each with two binaries: one of gcc12 and one whose source RPM no set holds."""
    branches = ["c10f2", "sisyphus", "p11"]
    for offset, branch in enumerate(branches):
        bump = ".1" if branch == "sisyphus" else ""
        sources = [
            package(h + 100 * offset, name, version + bump, release, epoch=epoch, source=True)
            for h, name, version, release, epoch, _ in MIXED
            if not (branch == "p11" and name == "gcc12")
        ]
        binaries = [
            package(
                900 + offset, "gcc12-c++", "12.2.1", epoch=1, srcrpm="gcc12-12.2.1-alt1.src.rpm"
            ),
            package(
                950 + offset, "libfoo-orphan", "0.9~beta2", "alt3", epoch=3,
                srcrpm="foo-orphan-0.9~beta2-alt3.src.rpm",
            ),
        ]  # fmt: skip
        load_branch_snapshot(store, branch, MIXED_DAY, sources, binaries)
    products = {name: product for _, name, _, _, _, product in MIXED} | {"foo-orphan": "x:orphan"}
    for name, product in products.items():
        set_mapping(store, pkg_name=name, result=_cpe(product), user="tester", reason="mixed")
    paths = []
    for record in MIXED_RECORDS:
        path = tmp / f"{record[0]}.json"
        path.write_text(json.dumps(_nvd(*record)))
        paths.append(path)
    assert load_vulns(store, source="nvd", paths=paths).problems == []
    record_triage(
        store, vuln_id="CVE-2024-1002", pkg_name="lib++c", branch="sisyphus",
        status="not_affected", author="tester",
    )  # fmt: skip
    record_triage(
        store, vuln_id="CVE-2024-1006", pkg_name="gcc12", branch="c10f2",
        status="fixed", author="tester", reason="backport",
    )  # fmt: skip
    for branch in branches:
        build_branch_errata(store, branch=branch, user="tester")
        rematch_branch(store, branch=branch)
    return branches


@pytest.fixture(params=["world", "mixed"])
def exported(request: pytest.FixtureRequest, store: Store, tmp_path: Path) -> list[Path]:
    """The CSAF files of every branch of one store."""
    if request.param == "world":
        build_world(store, tmp_path)
        build_branch_errata(store, branch=BRANCH, user="tester")
        rematch_branch(store, branch=BRANCH)
        # an earlier export, then a decision: mc's document is exported at version 2
        export_branch(store, branch=BRANCH, fmt="csaf", out=tmp_path / "earlier")
        record_triage(
            store, vuln_id="CVE-2021-36370", pkg_name="mc", branch=BRANCH,
            status="not_affected", author="tester", reason="not built",
        )  # fmt: skip
        rematch_branch(store, branch=BRANCH)
        branches = [BRANCH]
    else:
        branches = build_mixed(store, tmp_path)
    files = []
    for branch in branches:
        files += export_branch(store, branch=branch, fmt="csaf", out=tmp_path / "csaf" / branch)
    assert files
    if request.param == "world":
        versions = [json.loads(p.read_text())["document"]["tracking"]["version"] for p in files]
        assert sorted(versions)[-1] == "2" and versions.count("2") == 1
    return files


def _load(files: list[Path]) -> dict[str, dict[str, Any]]:
    return {f"{p.parent.name}/{p.name}": json.loads(p.read_text()) for p in files}


def _unsorted(value: Any, where: str = "") -> list[str]:
    """The paths of the objects in ``value`` whose keys are not in alphabetical order."""
    if isinstance(value, dict):
        found = [where or "/"] if list(value) != sorted(value) else []
        return found + [p for k, v in value.items() for p in _unsorted(v, f"{where}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _unsorted(v, f"{where}/{i}")]
    return []


def test_every_object_has_its_keys_sorted(exported: list[Path]) -> None:
    """§6.2.13 Sorting: all keys of a CSAF document are sorted alphabetically."""
    for name, document in _load(exported).items():
        assert _unsorted(document) == [], name


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def test_the_initial_release_is_not_older_than_the_revision_history(
    exported: list[Path],
) -> None:
    """§6.2.5: the initial release date is not older than the oldest revision's date;
    the record's publication is the vulnerability's release date instead."""
    for name, document in _load(exported).items():
        tracking = document["document"]["tracking"]
        oldest = min(_when(r["date"]) for r in tracking["revision_history"])
        assert _when(tracking["initial_release_date"]) >= oldest, name
        (vulnerability,) = document["vulnerabilities"]
        assert _when(vulnerability["release_date"]) <= oldest, name
        if not name.startswith(f"{BRANCH}/"):  # the mixed store's records
            assert vulnerability["release_date"] == "2024-01-01T00:00:00Z", name


def csaf_validator() -> Path:
    """The directory of @secvisogram/csaf-validator-lib, or a skip saying what is missing."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the BSI CSAF validator was not run")
    lib = Path(os.environ.get("CSAF_VALIDATOR_LIB", "/nonexistent"))
    if not (lib / "validateStrict.js").is_file():
        pytest.skip(
            "CSAF_VALIDATOR_LIB does not name the directory of @secvisogram/csaf-validator-lib"
            " (npm install @secvisogram/csaf-validator-lib): the BSI CSAF validator was not run"
        )
    return lib


def validate(lib: Path, files: list[Path]) -> dict[str, list[dict[str, str]]]:
    """The validator's findings per file (schema, mandatory and recommended tests)."""
    done = subprocess.run(
        ["node", str(RUNNER), str(lib), *map(str, files)],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    found: dict[str, list[dict[str, str]]] = json.loads(done.stdout)
    return found


def test_the_validator_passes_every_export(exported: list[Path]) -> None:
    lib = csaf_validator()
    for file, findings in validate(lib, exported).items():
        failed = [f for f in findings if f["set"] in ("schema", "mandatory")]
        assert failed == [], file
        warned = {f["test"] for f in findings if f["set"] == "recommended"}
        assert warned <= set(LEFT), (file, sorted(warned - set(LEFT)))


def test_the_validator_refuses_what_it_should(exported: list[Path], tmp_path: Path) -> None:
    """The runner reports failures (a run that checks nothing would pass everything)."""
    lib = csaf_validator()
    document = json.loads(exported[0].read_text())
    vulnerability = document["vulnerabilities"][0]
    vulnerability["product_status"]["known_affected"] = ["nowhere"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    tests = {f["test"] for f in validate(lib, [broken])[str(broken)] if f["set"] == "mandatory"}
    assert "mandatoryTest_6_1_1" in tests  # "nowhere" is no product of the tree


@pytest.mark.parametrize(
    ("vuln_id", "system"),
    [
        ("BDU:2024-01234", "BDU"),
        ("ALT-SA-2024-1234", "ALT-SA"),
        ("GHSA-jfh8-c2jp-5v3q", "GHSA"),
        ("GHSA-8w4h-7vg8-fq8p", "GHSA"),
        ("OSV-2020-111", "OSV"),
        ("RHSA-2024:1234", "RHSA"),
    ],
)
def test_a_non_cve_id_names_its_numbering_system(vuln_id: str, system: str) -> None:
    """``vulnerabilities[].ids[].system_name`` is the tracking or numbering system (CSAF
    2.0 §3.2.3.6): ``BDU`` for FSTEC's ``BDU:2024-01234`` (it read ``BDU:2024``),
    ``ALT-SA`` for ALT's advisories (it read ``ALT``)."""
    from repotrack.security.exports import Advisory, to_csaf

    when = datetime(2024, 5, 1, tzinfo=UTC)
    advisory = Advisory(vuln_id, "summary", "https://example.org", when, when, [])
    document = to_csaf(advisory, branch="p10", publisher="t", namespace="https://t.invalid")
    (ids,) = [v["ids"] for v in document["vulnerabilities"]]
    assert ids == [{"system_name": system, "text": vuln_id}]
