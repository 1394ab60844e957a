"""A repository's ``updateinfo.xml`` (the real Rocky Linux 8 and Amazon Linux 2 files).

The fixtures, counted by hand: Rocky's file holds four updates, RLBA-2021:2580
(firewalld, three noarch binaries, no CVE), RLSA-2021:2575 (lz4, CVE-2021-3520),
RLSA-2021:3057 (kernel, three CVEs) and RLSA-2019:1972 (the ruby module, one CVE, a
module collection named ``none-appstream-rpms__ruby``); Amazon's gzip file holds two,
ALAS2-2018-942 (qemu-kvm, epoch 10, five binaries) and ALAS2-2018-949 (OpenJDK 8,
epoch 1, 17 binaries, 15 CVEs). What each record must hold is worked out here from the
XML by ``ElementTree`` (the names and builds of every ``<package>``), and the verdicts
by librpm's ``labelCompare``.
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from repotrack.errors import InputError
from repotrack.ingest.vulns import load_vulns
from repotrack.security import rematch_branch
from repotrack.sources.vulns import PARSERS, RecordProblem, VulnRecord
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.rpm.librpm import label_compare
from tests.unit.security.stream_branch import judged_by_librpm, latest_verdicts, stream_branch

ROCKY = ("repodata", "rocky", "updateinfo.xml")
AMAZON = ("repodata", "amazon", "updateinfo_2_items.xml.gz")
STREAM = "Rocky Linux:8"  # the <release> "Rocky Linux 8", as OSV names it


def _records(data: bytes, path: str = "updateinfo.xml") -> list[VulnRecord]:
    found = list(PARSERS["updateinfo"](data, path=path))
    assert all(isinstance(r, VulnRecord) for r in found), found
    return [r for r in found if isinstance(r, VulnRecord)]


def _expected_fixes(data: bytes, stream_of: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per advisory, ``criteria -> lowest fixed E:V-R`` of every binary and source name,
    read from the XML with ElementTree and compared with librpm."""
    fixes: dict[str, dict[str, tuple[str, str, str]]] = {}
    for update in ET.fromstring(data).iter("update"):  # noqa: S314 (our fixture)
        per_name = fixes.setdefault(update.findtext("id", ""), {})
        for pkg in update.iter("package"):
            epoch = pkg.get("epoch") or "0"
            names = [(pkg.get("name", ""), pkg.get("version", ""), pkg.get("release", ""))]
            src = pkg.get("src", "")
            if src:
                base, version, release = src.removesuffix(".src.rpm").rsplit("-", 2)
                names.append((base, version, release))
            for name, version, release in names:
                build = (epoch, version, release)
                seen = per_name.get(name)
                if seen is None or label_compare([(build, seen)])[0] < 0:
                    per_name[name] = build
    return {
        vuln: {f"osv:{stream_of[vuln]}/{name}": f"{e}:{v}-{r}" for name, (e, v, r) in names.items()}
        for vuln, names in fixes.items()
    }


def test_each_update_is_one_record_with_its_fixed_builds() -> None:
    data = need_fixtures(*ROCKY).read_bytes()
    records = {r.vuln_id: r for r in _records(data)}
    assert list(records) == ["RLBA-2021:2580", "RLSA-2021:2575", "RLSA-2021:3057", "RLSA-2019:1972"]
    expected = _expected_fixes(data, dict.fromkeys(records, STREAM))
    for vuln, record in records.items():
        assert record.source == "updateinfo"
        assert all(r.end_excluded and not r.start and not r.unknown for r in record.ranges)
        assert {r.criteria: r.end for r in record.ranges} == expected[vuln], vuln
    # The module collection's packages are in the release's stream, not the collection's.
    ruby = records["RLSA-2019:1972"]
    assert [r.criteria for r in ruby.ranges] == [
        f"osv:{STREAM}/rubygem-abrt",
        f"osv:{STREAM}/rubygem-bson",
    ]
    assert ruby.references[0] == ("CVE", "CVE-2019-8324")
    assert ruby.url == "https://errata.rockylinux.org/RLSA-2019:1972"  # its type="self" link
    kernel = records["RLSA-2021:3057"]
    assert [r for _, r in kernel.references] == [
        "CVE-2021-22543",
        "CVE-2021-22555",
        "CVE-2021-3609",
    ]
    assert (kernel.severity, records["RLBA-2021:2580"].severity) == ("Important", "")
    lz4 = records["RLSA-2021:2575"]
    assert lz4.published == datetime(2021, 7, 22, 3, 13, 55, tzinfo=UTC)
    # Its <updated> (2021-06-29) is older than <issued>: the record changed when issued.
    assert lz4.modified == lz4.published
    assert ruby.modified == datetime(2023, 2, 2, 12, 55, 31, tzinfo=UTC)


def test_a_compressed_file_loads_with_its_epochs(store: Store) -> None:
    path = need_fixtures(*AMAZON)
    summary = load_vulns(store, source="updateinfo", paths=[path])
    assert (summary.records, summary.written, summary.problems) == (2, 2, [])
    data = gzip.decompress(path.read_bytes())
    expected = _expected_fixes(
        data, dict.fromkeys(("ALAS2-2018-942", "ALAS2-2018-949"), "Amazon Linux:2")
    )
    stored = store.query(
        "SELECT vuln_id, cpm_cpe, cpm_version_end FROM CpeMatch ORDER BY vuln_id, cpm_cpe"
    )
    found: dict[str, dict[str, str]] = {}
    for vuln, criteria, end in stored:
        found.setdefault(str(vuln), {})[str(criteria)] = str(end)
    assert found == expected
    assert len(found["ALAS2-2018-949"]) == 17
    assert set(found["ALAS2-2018-942"].values()) == {"10:1.5.3-141.amzn2.5.3"}
    ((cves,),) = store.query(
        "SELECT length(arrayFilter(t -> t = 'CVE', vuln_references.type)) FROM Vulnerabilities "
        "WHERE vuln_id = 'ALAS2-2018-949'"
    )
    assert cves == 15
    again = load_vulns(store, source="updateinfo", paths=[path])
    assert (again.records, again.written) == (2, 0)  # idempotent


def test_a_repodata_directory_gives_its_updateinfo_alone(store: Store, tmp_path: Path) -> None:
    """A mirror's ``repodata`` as it is: the package lists beside the updateinfo file are
    not read (a ``repomd.xml`` or ``primary.xml`` is not an updateinfo document)."""
    repodata = tmp_path / "repodata"
    shutil.copytree(need_fixtures("repodata", "createrepo_c", "repo_01", "repodata"), repodata)
    shutil.copy(need_fixtures(*ROCKY), repodata / "4f5e3c2b-updateinfo.xml")
    summary = load_vulns(store, source="updateinfo", paths=[tmp_path])
    assert (summary.files, summary.records, summary.problems) == (1, 4, [])


def test_other_metadata_is_refused_by_name() -> None:
    repomd = need_fixtures("repodata", "rocky", "repomd.xml")
    with pytest.raises(InputError, match=r"root element is <repomd>"):
        list(PARSERS["updateinfo"](repomd.read_bytes(), path=str(repomd)))


def test_a_zchunk_copy_is_named_as_such(store: Store) -> None:
    """Fedora-style repositories publish ``updateinfo.xml.zck`` beside the ``.gz``: given
    it, the user learns it is zchunk and which copy to take, not that it is not UTF-8."""
    repo = need_fixtures("repodata", "createrepo_c", "repo_with_additional_metadata")
    repodata = repo / "repodata"
    (zck,) = repodata.glob("*-updateinfo_01.xml.gz.zck")
    summary = load_vulns(store, source="updateinfo", paths=[zck])
    assert summary.written == 0
    assert len(summary.problems) == 1
    assert "zchunk" in summary.problems[0] and "UTF-8" not in summary.problems[0]
    assert str(zck) in summary.problems[0]
    whole = load_vulns(store, source="updateinfo", paths=[repodata])  # the walk takes the .gz
    assert (whole.files, whole.records, whole.problems) == (1, 1, [])


def test_a_bad_update_is_reported_and_the_rest_loads(store: Store, tmp_path: Path) -> None:
    text = need_fixtures(*ROCKY).read_text()
    text = text.replace("<id>RLBA-2021:2580</id>", "", 1)  # no id
    text = text.replace('epoch="0" arch="x86_64"', 'epoch="one" arch="x86_64"', 1)  # lz4
    text = text.replace('<issued date="2021-08-12 21:14:23">', '<issued date="12.08.2021">', 1)
    path = tmp_path / "updateinfo.xml"
    path.write_text(text)
    summary = load_vulns(store, source="updateinfo", paths=[path])
    assert (summary.records, summary.written) == (1, 1)
    assert [p.split(" (")[1].split(")")[0] for p in summary.problems] == [
        "update[0]",
        "RLSA-2021:2575",
        "RLSA-2021:3057",
    ]
    assert "epoch 'one' of 'lz4' is not a number" in summary.problems[1]
    cut = tmp_path / "cut.xml"
    cut.write_text(text[: len(text) // 2])
    half = load_vulns(store, source="updateinfo", paths=[cut])
    assert half.written == 0 and "malformed XML" in half.problems[-1]


def test_verdicts_follow_the_fixed_builds(store: Store) -> None:
    builds = {
        "lz4": ("0", "1.8.3", "2.el8"),  # below the fix
        "kernel": ("0", "4.18.0", "305.12.1.el8_4"),  # the fix itself
        "firewalld": ("0", "0.8.2", "8.el8"),  # above it
    }
    stream_branch(store, "rocky8", STREAM, builds, first_hash=800)
    assert load_vulns(store, source="updateinfo", paths=[need_fixtures(*ROCKY)]).written == 4
    rematch_branch(store, branch="rocky8")
    fixes = {
        ("lz4", "RLSA-2021:2575"): ("0", "1.8.3", "3.el8_4"),
        ("kernel", "RLSA-2021:3057"): ("0", "4.18.0", "305.12.1.el8_4"),
        ("firewalld", "RLBA-2021:2580"): ("0", "0.8.2", "7.el8_4"),
    }
    assert (
        latest_verdicts(store)
        == judged_by_librpm(builds, fixes)
        == {
            "lz4 RLSA-2021:2575": "vulnerable",
            "kernel RLSA-2021:3057": "fixed",
            "firewalld RLBA-2021:2580": "fixed",
        }
    )


def test_the_osv_copy_of_an_advisory_shares_its_stream(store: Store, tmp_path: Path) -> None:
    """Rocky publishes each advisory twice: in updateinfo and as OSV (ecosystem
    ``Rocky Linux:8``). Whichever record of the two is current, the one mapping of the
    branch to the stream matches it; the updateinfo record, with its epochs, outranks."""
    osv = json.loads(need_fixtures("cve", "osv", "rocky", "RLSA-2021_3891.json").read_text())
    ecosystems = {a["package"]["ecosystem"] for a in osv["affected"]}
    assert ecosystems == {STREAM}
    osv["id"] = "RLSA-2021:2575"  # as if it were the OSV copy of the lz4 advisory
    for affected in osv["affected"]:
        affected["package"]["name"] = "lz4"
    copy = tmp_path / "RLSA-2021_2575.json"
    copy.write_text(json.dumps(osv))
    load_vulns(store, source="osv", paths=[copy])
    assert load_vulns(store, source="updateinfo", paths=[need_fixtures(*ROCKY)]).written == 4
    assert load_vulns(store, source="osv", paths=[copy]).kept == 1
    rows = store.query(
        "SELECT DISTINCT cpm_cpe FROM CpeMatch WHERE vuln_id = 'RLSA-2021:2575' "
        "AND vuln_hash = (SELECT argMax(vuln_hash, ts) FROM Vulnerabilities "
        "WHERE vuln_id = 'RLSA-2021:2575')"
    )
    assert rows == [(f"osv:{STREAM}/lz4",)]


def test_collections_of_one_stream_fix_a_name_once() -> None:
    """Hand-written, as Fedora and openSUSE write them: two collections (one per
    architecture) of one release, the same source at two builds (one named by its URL,
    as Fedora does), an empty ``updated`` and an epoch-seconds ``issued``; a second
    release is a stream of its own."""
    xml = b"""<?xml version="1.0"?>
<updates>
  <update type="security" status="stable" from="updates@example.org">
    <id>EX-2024-7</id><title>foo</title><release>Example 9</release>
    <issued date="1700000000"/><updated date=""/>
    <references><reference type="cve" id="CVE-2024-0007" href="https://x/7"/></references>
    <pkglist>
      <collection short="ex9-x86_64"><name>Example 9 x86_64</name>
        <package name="foo" epoch="2" version="1.10" release="2.ex9" arch="x86_64"
                 src="foo-1.10-2.ex9.src.rpm"/></collection>
      <collection short="ex9-aarch64"><name>Example 9 aarch64</name>
        <package name="foo-libs" epoch="2" version="1.10" release="1.ex9" arch="aarch64"
                 src="https://dl.example.org/9/SRPMS/f/foo-1.10-1.ex9.src.rpm"/></collection>
    </pkglist>
  </update>
  <update type="security"><id>EX-2024-8</id><issued date="2024-02-01"/>
    <pkglist>
      <collection short="ex10"><package name="bar" version="3" release="1"/></collection>
    </pkglist>
  </update>
  <update type="security"><id>EX-SA-2024-9</id><issued date="2024-02-01"/>
    <release>Example</release>
    <pkglist><collection><package name="baz" version="3" release="1"/></collection></pkglist>
  </update>
</updates>"""
    *found, unversioned = PARSERS["updateinfo"](xml, path="updateinfo.xml")
    assert isinstance(unversioned, RecordProblem)
    assert "EX-SA-2024-9" in unversioned.where and "has no version" in unversioned.message
    first, second = found
    assert isinstance(first, VulnRecord) and isinstance(second, VulnRecord)
    assert [(r.criteria, r.end) for r in first.ranges] == [
        ("osv:Example:9/foo", "2:1.10-1.ex9"),  # the source's build, the lower one
        ("osv:Example:9/foo-libs", "2:1.10-1.ex9"),
    ]
    assert first.published == first.modified == datetime.fromtimestamp(1700000000, UTC)
    assert first.references == (("CVE", "CVE-2024-0007"),)
    assert [(r.criteria, r.end) for r in second.ranges] == [("osv:ex10/bar", "0:3-1")]
    assert second.published == datetime(2024, 2, 1, tzinfo=UTC)
