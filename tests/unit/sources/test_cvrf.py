"""CVRF 1.1/1.2 advisories (SUSE, openSUSE, openEuler) on the real fixtures and bad input.

Counts are taken again from the XML by an independent ``xml.etree`` walk; the expected
ranges of one SUSE and one openEuler advisory are written out by hand from the files.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.ingest.vulns import load_vulns
from repotrack.security import rematch_branch
from repotrack.security.ecosystem_mapping import sync_ecosystem
from repotrack.sources.vulns import PARSERS, AffectedRange, RecordProblem, VulnRecord
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.rpm.librpm import label_compare
from tests.unit.store.rows import load_branch_snapshot, package
from tests.unit.store.storeutil import open_fresh_store

VULN = "{http://www.icasi.org/CVRF/schema/vuln/1.1}"
PROD = "{http://www.icasi.org/CVRF/schema/prod/1.1}"
SUSE = ("cve", "suse", "cvrf", "cvrf-suse-su-2019-1608-1.xml")
OPENSUSE = ("cve", "suse", "cvrf", "cvrf-opensuse-su-2016-0874-1.xml")
EULER = ("cve", "openeuler", "cvrf", "cvrf-openEuler-SA-2023-1374.xml")
EULER_KERNEL = ("cve", "openeuler", "cvrf", "cvrf-openEuler-SA-2024-1349.xml")
ALL = (SUSE, OPENSUSE, EULER, EULER_KERNEL)


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def parse(path: Path, data: bytes | None = None) -> list[VulnRecord | RecordProblem]:
    return list(PARSERS["cvrf"](path.read_bytes() if data is None else data, path=str(path)))


def record_of(items: list[VulnRecord | RecordProblem]) -> VulnRecord:
    (record,) = [i for i in items if isinstance(i, VulnRecord)]
    return record


def triples(record: VulnRecord) -> set[tuple[str, str, str]]:
    """(stream, rpm name, fixed version-release) of each "below fixed" range."""
    found = set()
    for one in record.ranges:
        assert (one.start, one.end_excluded, one.unknown, one.not_affected) == (
            "",
            True,
            False,
            False,
        )
        stream, _, name = one.criteria.removeprefix("osv:").rpartition("/")
        found.add((stream, name, one.end))
    return found


def walk(path: Path) -> ET.Element:
    """The document by plain ElementTree (the openSUSE file's Latin-1 byte replaced);
    the fixtures are known files with no DTD."""
    return ET.fromstring(path.read_bytes().decode("utf-8", "replace"))  # noqa: S314


def fixed_ids(root: ET.Element) -> list[str]:
    return [
        (pid.text or "").strip()
        for status in root.iter(f"{VULN}Status")
        if status.get("Type") == "Fixed"
        for pid in status.iter(f"{VULN}ProductID")
    ]


# -- counts against an independent walk ------------------------------------------------


@pytest.mark.parametrize("parts", ALL, ids=lambda p: p[-1])
def test_cves_and_fixed_products_match_an_independent_walk(parts: tuple[str, ...]) -> None:
    path = need_fixtures(*parts)
    items = parse(path)
    assert [i for i in items if isinstance(i, RecordProblem)] == []
    record = record_of(items)
    root = walk(path)
    cves = [(c.text or "").strip() for c in root.iter(f"{VULN}CVE")]
    assert [link for kind, link in record.references if kind == "CVE"] == cves
    assert record.vuln_id == root.findtext(
        "{http://www.icasi.org/CVRF/schema/cvrf/1.1}DocumentTracking/"
        "{http://www.icasi.org/CVRF/schema/cvrf/1.1}Identification/"
        "{http://www.icasi.org/CVRF/schema/cvrf/1.1}ID"
    )
    ids = set(fixed_ids(root))
    relations = {
        full.get("ProductID"): (rel.get("ProductReference"), rel.get("RelatesToProductReference"))
        for rel in root.iter(f"{PROD}Relationship")
        for full in rel.iter(f"{PROD}FullProductName")
    }
    expected = set()
    for pid in ids:
        if pid in relations:  # SUSE: <platform>:<name-version-release>
            nvr, platform = relations[pid]
            name, version, release = str(nvr).rsplit("-", 2)
            expected.add((str(platform), name, f"{version}-{release}"))
        else:  # openEuler: the release; its packages are the file names under its CPE
            cpe = next(
                f.get("CPE")
                for f in root.iter(f"{PROD}FullProductName")
                if f.get("ProductID") == pid
            )
            for full in root.iter(f"{PROD}FullProductName"):
                text = (full.text or "").strip()
                if full.get("CPE") == cpe and text.endswith(".rpm"):
                    nvr = text.removesuffix(".rpm").rsplit(".", 1)[0]
                    name, version, release = nvr.rsplit("-", 2)
                    expected.add((pid, name, f"{version}-{release}"))
    assert triples(record) == expected


def test_fixture_hand_counts() -> None:
    """CVEs and Fixed product ids per file, counted by reading the XML."""
    counts = {}
    for parts in ALL:
        root = walk(need_fixtures(*parts))
        counts[parts[-1]] = (len(list(root.iter(f"{VULN}CVE"))), len(fixed_ids(root)))
    assert counts == {
        "cvrf-suse-su-2019-1608-1.xml": (1, 15),
        "cvrf-opensuse-su-2016-0874-1.xml": (1, 0),  # an empty Status Type="Fixed"
        "cvrf-openEuler-SA-2023-1374.xml": (2, 2),  # each names only openEuler-22.03-LTS-SP1
        "cvrf-openEuler-SA-2024-1349.xml": (9, 9),
    }


# -- one advisory written out by hand --------------------------------------------------

D3 = "SUSE Linux Enterprise Desktop 12 SP3"
D4 = "SUSE Linux Enterprise Desktop 12 SP4"
LEGACY = "SUSE Linux Enterprise Module for Legacy Software 12"
SAP = "SUSE Linux Enterprise Server for SAP Applications 12"
VR = "0.9.8j-106.12.1"

# From cvrf-suse-su-2019-1608-1.xml: the 15 ProductIDs of Status Type="Fixed", each
# "<platform>:<name>-0.9.8j-106.12.1" (a "Default Component Of" relationship).
SUSE_FIXED = {
    (D3, "compat-openssl098", VR),
    (D3, "libopenssl0_9_8", VR),
    (D4, "compat-openssl098", VR),
    (D4, "libopenssl0_9_8", VR),
    (LEGACY, "compat-openssl098", VR),
    (LEGACY, "libopenssl0_9_8", VR),
    (LEGACY, "libopenssl0_9_8-32bit", VR),
    (f"{SAP} SP1", "compat-openssl098", VR),
    (f"{SAP} SP1", "libopenssl0_9_8", VR),
    (f"{SAP} SP2", "compat-openssl098", VR),
    (f"{SAP} SP2", "libopenssl0_9_8", VR),
    (f"{SAP} SP3", "compat-openssl098", VR),
    (f"{SAP} SP3", "libopenssl0_9_8", VR),
    (f"{SAP} SP4", "compat-openssl098", VR),
    (f"{SAP} SP4", "libopenssl0_9_8", VR),
}

# From cvrf-openEuler-SA-2023-1374.xml: the FullProductName texts under the CPE of
# openEuler-22.03-LTS-SP1 (aarch64, x86_64 and the src.rpm), arch and .rpm dropped.
EULER_FIXED = {
    ("openEuler-22.03-LTS-SP1", name, "3.6.14-1.oe2203sp1")
    for name in (
        "wireshark",
        "wireshark-devel",
        "wireshark-debugsource",
        "wireshark-help",
        "wireshark-debuginfo",
    )
}


def test_suse_advisory_by_hand() -> None:
    record = record_of(parse(need_fixtures(*SUSE)))
    assert triples(record) == SUSE_FIXED
    assert len(record.ranges) == 15
    assert (record.vuln_id, record.source, record.vuln_type) == (
        "SUSE-SU-2019:1608-1",
        "cvrf",
        "SUSE",
    )
    assert record.summary == "Security update for compat-openssl098"
    assert record.severity == "moderate"  # Threat Type="Impact", lower case as written
    assert record.score == 0.0  # no CVSSScoreSets
    assert record.published == record.modified == datetime(2019, 6, 21, 8, 27, 12, tzinfo=UTC)
    assert record.url == "https://www.suse.com/support/update/announcement/2019/suse-su-20191608-1/"
    assert ("CVE", "CVE-2019-1559") in record.references
    assert ("web", "https://bugzilla.suse.com/1127080") in record.references


def test_openeuler_advisory_by_hand() -> None:
    record = record_of(parse(need_fixtures(*EULER)))
    assert triples(record) == EULER_FIXED
    assert len(record.ranges) == 5  # aarch64, x86_64 and src give the same ranges once
    assert record.vuln_id == "openEuler-SA-2023-1374"
    assert record.severity == "Critical"  # the graver of Medium (6.5) and Critical (9.8)
    assert record.score == 9.8
    assert record.published == record.modified == datetime(2023, 6, 27, tzinfo=UTC)
    assert record.references[:2] == (("CVE", "CVE-2023-2952"), ("CVE", "CVE-2023-0667"))


def test_kernel_advisory_streams_and_source_name() -> None:
    record = record_of(parse(need_fixtures(*EULER_KERNEL)))
    streams = {t[0] for t in triples(record)}
    assert streams == {"openEuler-22.03-LTS-SP2"}
    assert ("openEuler-22.03-LTS-SP2", "kernel", "5.10.0-153.48.0.126.oe2203sp2") in triples(record)
    assert record.severity == "High"


def test_latin1_byte_and_stream_less_package() -> None:
    """openSUSE 2016: UTF-8 declared, byte 0xEB inside; dropbear tied to no platform."""
    path = need_fixtures(*OPENSUSE)
    assert b"Ga\xebl" in path.read_bytes()
    record = record_of(parse(path))
    assert record.vuln_id == "openSUSE-SU-2016:0874-1"
    assert record.vuln_type == "OPENSUSE"
    assert "Ga\u00ebl" in record.raw  # read as Latin-1, not dropped
    assert record.ranges == ()  # empty Fixed list: no stream, no range
    assert record.severity == "moderate"


# -- bad input -------------------------------------------------------------------------


def test_malformed_xml_names_the_file() -> None:
    data = need_fixtures(*SUSE).read_bytes()[:3000]
    with pytest.raises(InputError, match="malformed XML") as err:
        parse(Path("cut.xml"), data)
    assert err.value.path == "cut.xml"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'<?xml version="1.0"?><oval_definitions xmlns="http://oval.mitre.org/XMLSchema/'
            b'oval-definitions-5"><definitions/></oval_definitions>',
            "not a CVRF document",
        ),
        (
            b'<cvrfdoc xmlns="http://www.icasi.org/CVRF/schema/cvrf/2.0"><DocumentTitle>x'
            b"</DocumentTitle></cvrfdoc>",
            "unknown CVRF namespace",
        ),
        (b"<cvrfdoc><DocumentTitle>x</DocumentTitle></cvrfdoc>", "unknown CVRF namespace"),
        (
            b'<!DOCTYPE x [<!ENTITY a "aaaa">]><cvrfdoc xmlns="http://www.icasi.org/CVRF/'
            b'schema/cvrf/1.1">&a;</cvrfdoc>',
            "DTD",
        ),
    ],
)
def test_documents_that_are_not_cvrf(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        parse(Path("other.xml"), data)
    assert err.value.path == "other.xml"


def test_one_broken_vulnerability_is_a_problem_and_the_rest_loads() -> None:
    path = need_fixtures(*EULER)
    data = path.read_bytes().replace(b"<CVE>CVE-2023-0667</CVE>", b"<CVE>CVE-2023-BAD</CVE>")
    items = parse(path, data)
    problems = [i for i in items if isinstance(i, RecordProblem)]
    assert len(problems) == 1
    assert "Vulnerability 2" in problems[0].where and "CVE-2023-BAD" in problems[0].message
    record = record_of(items)
    assert [link for kind, link in record.references if kind == "CVE"] == ["CVE-2023-2952"]
    assert (record.severity, record.score) == ("Medium", 6.5)  # the good one's only
    assert triples(record) == EULER_FIXED


def test_a_status_naming_a_missing_product_is_a_problem() -> None:
    path = need_fixtures(*SUSE)
    data = path.read_bytes().replace(
        b"<ProductID>SUSE Linux Enterprise Desktop 12 SP3:compat-openssl098",
        b"<ProductID>Nowhere:compat-openssl098",
    )
    items = parse(path, data)
    (problem,) = [i for i in items if isinstance(i, RecordProblem)]
    assert "not in ProductTree" in problem.message
    assert record_of(items).ranges == ()


def test_other_statuses_follow_csaf() -> None:
    path = need_fixtures(*SUSE)
    text = path.read_bytes().decode()
    statuses = re.sub(
        r'<Status Type="Fixed">.*?</Status>',
        '<Status Type="Known Affected"><ProductID>SUSE Linux Enterprise Desktop 12 SP3:'
        "compat-openssl098-0.9.8j-106.12.1</ProductID></Status>"
        '<Status Type="Known Not Affected"><ProductID>SUSE Linux Enterprise Desktop 12 SP4:'
        "compat-openssl098-0.9.8j-106.12.1</ProductID></Status>"
        '<Status Type="Recommended"><ProductID>SUSE Linux Enterprise Desktop 12 SP4:'
        "libopenssl0_9_8-0.9.8j-106.12.1</ProductID></Status>",
        text,
        flags=re.DOTALL,
    )
    record = record_of(parse(path, statuses.encode()))
    assert record.ranges == (
        AffectedRange(f"osv:{D3}/compat-openssl098"),
        AffectedRange.statement(f"osv:{D4}/compat-openssl098"),
    )


# -- through the loader ----------------------------------------------------------------


@pytest.mark.parametrize("parts", ALL, ids=lambda p: p[-1])
def test_each_fixture_loads_once(store: Store, parts: tuple[str, ...]) -> None:
    path = need_fixtures(*parts)
    ranges = len(record_of(parse(path)).ranges)
    first = load_vulns(store, source="cvrf", paths=[path])
    assert (first.files, first.records, first.written, first.problems) == (1, 1, 1, [])
    ((rows,),) = store.query("SELECT count() FROM CpeMatch")
    assert rows == ranges
    second = load_vulns(store, source="cvrf", paths=[path])
    assert (second.written, second.unchanged) == (0, 1)
    ((again,),) = store.query("SELECT count() FROM Vulnerabilities")
    assert again == 1


def test_a_directory_reads_its_xml_files(store: Store) -> None:
    folder = need_fixtures("cve", "suse", "cvrf")
    done = load_vulns(store, source="cvrf", paths=[folder])
    assert (done.files, done.written, done.problems) == (2, 2, [])


# -- matching --------------------------------------------------------------------------

BRANCH = "oe2203sp1"
STREAM = "openEuler-22.03-LTS-SP1"
DAY = datetime(2026, 12, 1, tzinfo=UTC)


def _status(store: Store) -> str:
    rows = store.query(
        "SELECT argMax(pvv_status, ts) FROM PackagesVulnerabilityVerdict "
        "WHERE pkgset_name = {b:String} AND pkg_name = 'wireshark' "
        "AND vuln_id = 'openEuler-SA-2023-1374' GROUP BY pkg_name",
        {"b": BRANCH},
    )
    return str(rows[0][0]) if rows else ""


def test_an_older_wireshark_matches_the_advisory(store: Store) -> None:
    def snapshot(day: datetime, release: str, first: int) -> None:
        srpm = f"wireshark-3.6.14-{release}.src.rpm"
        load_branch_snapshot(
            store, BRANCH, day, [], [package(first, "wireshark", "3.6.14", release, srcrpm=srpm)]
        )

    snapshot(DAY, "0.oe2203sp1", 700)
    load_vulns(store, source="cvrf", paths=[need_fixtures(*EULER)])
    sync_ecosystem(store, branch=BRANCH, stream=STREAM, user="tester")
    rematch_branch(store, branch=BRANCH)
    fixed = ("0", "3.6.14", "1.oe2203sp1")
    older, same = label_compare(
        [(("0", "3.6.14", "0.oe2203sp1"), fixed), (("0", "3.6.14", "1.oe2203sp1"), fixed)]
    )
    assert older < 0 and _status(store) == "vulnerable"

    snapshot(DAY + timedelta(days=1), "1.oe2203sp1", 710)  # the fixed build arrives
    rematch_branch(store, branch=BRANCH)
    assert same == 0 and _status(store) != "vulnerable"
