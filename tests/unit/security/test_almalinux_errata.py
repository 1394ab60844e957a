"""AlmaLinux's errata JSON (the real ``almalinux/errata.json``): advisories with epochs.

The fixture's four errata, counted by hand: ALSA-2021:3253 (libsndfile, CVE-2021-3246),
ALBA-2021:3240 (dotnet, four binaries, no CVE), ALSA-2021:3152 (exiv2, four binaries,
CVE-2021-31291) and ALSA-2020:0279 (the virt module: libiscsi, netcf and sgabios with
epoch 1, each at two module builds, CVE-2019-11135). The verdicts are judged by
librpm's ``labelCompare`` against the lowest fixed build of each name, epoch included:
what AlmaLinux's OSV copy of the same advisory omits (vuln-formats.md §9).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.ingest.vulns import load_vulns
from repotrack.security import rematch_branch
from repotrack.sources.vulns import PARSERS, VulnRecord
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.security.stream_branch import judged_by_librpm, latest_verdicts, stream_branch

ERRATA = ("cve", "almalinux", "errata.json")
BRANCH = "alma8"
STREAM = "AlmaLinux:8"


def _records() -> list[VulnRecord]:
    path = need_fixtures(*ERRATA)
    found = list(PARSERS["almalinux"](path.read_bytes(), path=str(path)))
    assert all(isinstance(r, VulnRecord) for r in found)
    return [r for r in found if isinstance(r, VulnRecord)]


def test_each_erratum_is_one_record_with_its_builds_epochs() -> None:
    records = {r.vuln_id: r for r in _records()}
    assert list(records) == ["ALSA-2021:3253", "ALBA-2021:3240", "ALSA-2021:3152", "ALSA-2020:0279"]
    libsndfile = records["ALSA-2021:3253"]
    assert libsndfile.references == (("CVE", "CVE-2021-3246"),)
    assert (libsndfile.severity, libsndfile.source) == ("Important", "almalinux")
    assert libsndfile.published == datetime.fromtimestamp(1629790196, UTC)
    canonical = json.loads(need_fixtures(*ERRATA).read_text())[0]
    canonical["issued_date"] = {"$date": {"$numberLong": "1629790196000"}}
    (again,) = PARSERS["almalinux"](json.dumps(canonical).encode(), path="one.json")
    assert isinstance(again, VulnRecord) and again.published == libsndfile.published
    assert [(r.criteria, r.start, r.end, r.end_excluded) for r in libsndfile.ranges] == [
        (f"osv:{STREAM}/libsndfile", "", "0:1.0.28-10.el8_4.1", True)
    ]
    dotnet = {r.criteria.rsplit("/", 1)[1]: r.end for r in records["ALBA-2021:3240"].ranges}
    assert dotnet["dotnet"] == "0:2.1.526-1.el8_4"  # the source RPM's own version
    assert dotnet["dotnet-runtime-2.1"] == "0:2.1.30-1.el8_4"
    virt = {r.criteria.rsplit("/", 1)[1]: r.end for r in records["ALSA-2020:0279"].ranges}
    assert len(virt) == 8
    assert virt["sgabios"] == "1:0.20170427git-3.module_el8.3.0+2048+e7a0a3ea"  # lowest build


def test_a_bad_erratum_is_reported_and_the_rest_loads(store: Store, tmp_path: Path) -> None:
    errata = json.loads(need_fixtures(*ERRATA).read_text())
    errata[1]["pkglist"]["name"] = "no-release-here"
    errata[2]["pkglist"]["packages"][0]["epoch"] = "one"
    path = tmp_path / "errata.json"
    path.write_text(json.dumps(errata))
    summary = load_vulns(store, source="almalinux", paths=[path])
    assert (summary.records, summary.written) == (2, 2)
    assert [p.split(" (")[1].split(")")[0] for p in summary.problems] == [
        "ALBA-2021:3240",
        "ALSA-2021:3152",
    ]


def _osv_copy(tmp_path: Path) -> Path:
    """AlmaLinux's OSV shape of ALSA-2020:0279 for sgabios: the fixed version without its
    epoch, as Alma writes it."""
    record = {
        "id": "ALSA-2020:0279",
        "modified": "2021-08-24T00:00:00Z",
        "published": "2020-01-28T00:00:00Z",
        "related": ["CVE-2019-11135"],
        "affected": [
            {
                "package": {"ecosystem": STREAM, "name": "sgabios"},
                "ranges": [
                    {
                        "type": "ECOSYSTEM",
                        "events": [
                            {"introduced": "0"},
                            {"fixed": "0.20170427git-3.module_el8.3.0+2048+e7a0a3ea"},
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "ALSA-2020_0279.json"
    path.write_text(json.dumps(record))
    return path


@pytest.mark.parametrize("osv_first", [True, False])
def test_the_errata_json_decides_and_outranks_the_osv_copy(
    store: Store, tmp_path: Path, osv_first: bool
) -> None:
    builds = {
        "sgabios": ("1", "0.20170427git", "2.module_el8.3.0+2048+e7a0a3ea"),
        "libsndfile": ("0", "1.0.28", "10.el8_4.1"),
        "exiv2": ("0", "0.27.3", "2.el8"),
    }
    stream_branch(store, BRANCH, STREAM, builds, first_hash=700)
    errata = need_fixtures(*ERRATA)
    if osv_first:  # the errata JSON's record replaces the OSV copy
        load_vulns(store, source="osv", paths=[_osv_copy(tmp_path)])
    assert load_vulns(store, source="almalinux", paths=[errata]).written == 4
    if not osv_first:  # the OSV copy does not replace the errata JSON's record
        assert load_vulns(store, source="osv", paths=[_osv_copy(tmp_path)]).kept == 1
    ((source,),) = store.query(
        "SELECT argMax(vuln_source, ts) FROM Vulnerabilities WHERE vuln_id = 'ALSA-2020:0279'"
    )
    assert source == "almalinux"
    rematch_branch(store, branch=BRANCH)
    fixes = {
        ("sgabios", "ALSA-2020:0279"): ("1", "0.20170427git", "3.module_el8.3.0+2048+e7a0a3ea"),
        ("libsndfile", "ALSA-2021:3253"): ("0", "1.0.28", "10.el8_4.1"),
        ("exiv2", "ALSA-2021:3152"): ("0", "0.27.3", "3.el8_4"),
    }
    assert (
        latest_verdicts(store)
        == judged_by_librpm(builds, fixes)
        == {
            "sgabios ALSA-2020:0279": "vulnerable",
            "libsndfile ALSA-2021:3253": "fixed",
            "exiv2 ALSA-2021:3152": "vulnerable",
        }
    )
