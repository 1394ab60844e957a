"""The retired NVD JSON 1.1 feed read by the ``nvd`` parser, checked against the 2.0
records of the same CVEs and against counts taken by hand from the raw feed.

Fixtures (../shared/fixtures/cve, PROVENANCE.md): ``nvd-1.1-legacy/nvdcve-1.1-test-data.json``
(osv.dev vulnfeeds test data, 669 ``CVE_Items``; its header claims 660) and the osv.dev
copies of five of those CVEs as NVD API 2.0 records in ``nvd-2.0/records/``.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from repotrack.errors import InputError
from repotrack.ingest.vulns import load_vulns
from repotrack.sources.vulns import PARSERS, RecordProblem, VulnRecord, parse_cpe
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.store.storeutil import open_fresh_store

OVERLAP = ("CVE-2020-13595", "CVE-2022-29194", "CVE-2022-2956", "CVE-2022-32746", "CVE-2022-46285")


def legacy_path() -> Path:
    return need_fixtures("cve", "nvd-1.1-legacy", "nvdcve-1.1-test-data.json")


def record_path(cve_id: str) -> Path:
    return need_fixtures("cve", "nvd-2.0", "records", f"{cve_id}.json")


def parse(data: bytes, path: str = "feed.json") -> list[VulnRecord | RecordProblem]:
    return list(PARSERS["nvd"](data, path=path))


@pytest.fixture(scope="module")
def legacy_raw() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(legacy_path().read_bytes())
    return raw


@pytest.fixture(scope="module")
def legacy() -> dict[str, VulnRecord]:
    path = legacy_path()
    records = parse(path.read_bytes(), str(path))
    assert all(isinstance(r, VulnRecord) for r in records)
    return {r.vuln_id: r for r in records if isinstance(r, VulnRecord)}


# -- an independent walk of the raw 1.1 feed -------------------------------------------


def raw_matches(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every ``cpe_match`` of a 1.1 node and of its children, depth first."""
    yield from node["cpe_match"]
    for child in node["children"]:
        yield from raw_matches(child)


def english(item: dict[str, Any]) -> str:
    (text,) = (d["value"] for d in item["cve"]["description"]["description_data"])
    return str(text)


def test_records_rejections_and_ranges_match_a_hand_count(
    legacy_raw: dict[str, Any], legacy: dict[str, VulnRecord]
) -> None:
    items = legacy_raw["CVE_Items"]
    assert legacy_raw["CVE_data_version"] == "4.0"
    assert len(items) == 669 and legacy_raw["CVE_data_numberOfCVEs"] == "660"  # header is off
    # What the reference says the fixture holds, so the walk below covers it all.
    top = [node for item in items for node in item["configurations"]["nodes"]]
    assert sum(1 for n in top if n["operator"] == "AND" and n["children"]) == 148
    assert not any(n.get("negate") for item in items for n in _all_nodes(item))
    matches = [
        m for item in items for node in item["configurations"]["nodes"] for m in raw_matches(node)
    ]
    vulnerable = [m for m in matches if m["vulnerable"] is True]
    products = [
        m
        for m in vulnerable
        if m["cpe23Uri"].split(":")[2] == "a"
        or m["cpe23Uri"].split(":")[3:5] == ["linux", "linux_kernel"]
    ]
    rejected = [item for item in items if english(item).startswith("** REJECT **")]
    assert (len(matches), len(vulnerable), len(products), len(rejected)) == (890, 718, 334, 29)

    assert len(legacy) == len(items)  # every id once, every item a record
    assert sum(1 for r in legacy.values() if r.rejected) == len(rejected)
    assert {r.vuln_id for r in legacy.values() if r.rejected} == {
        item["cve"]["CVE_data_meta"]["ID"] for item in rejected
    }
    expected = Counter(_range_of(m) for m in products)
    got = Counter(
        (r.criteria, r.start, r.start_excluded, r.end, r.end_excluded)
        for record in legacy.values()
        for r in record.ranges
    )
    assert got == expected


def _all_nodes(item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    stack = list(item["configurations"]["nodes"])
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node["children"])


def _range_of(m: dict[str, Any]) -> tuple[str, str, bool, str, bool]:
    """A raw ``cpe_match`` as (criteria, start, excluded, end, excluded), by the rules of
    reference/vuln-formats.md §1: bounds as given, else a concrete version is [v, v]."""
    cpe = m["cpe23Uri"]
    start = m.get("versionStartIncluding") or m.get("versionStartExcluding") or ""
    end = m.get("versionEndIncluding") or m.get("versionEndExcluding") or ""
    if not (start or end) and cpe.split(":")[5] not in ("*", ""):
        return cpe, cpe.split(":")[5], False, cpe.split(":")[5], False
    return cpe, start, "versionStartExcluding" in m, end, "versionEndExcluding" in m


def test_scores_dates_and_raw_record(
    legacy_raw: dict[str, Any], legacy: dict[str, VulnRecord]
) -> None:
    item = next(
        i for i in legacy_raw["CVE_Items"] if i["cve"]["CVE_data_meta"]["ID"] == "CVE-2022-0090"
    )
    record = legacy["CVE-2022-0090"]
    # Both v3 and v2 are there: v3 wins, as cvssMetricV31 wins over cvssMetricV2 in 2.0.
    assert (item["impact"]["baseMetricV2"]["cvssV2"]["baseScore"], record.score) == (5, 6.5)
    assert record.severity == "MEDIUM"
    assert record.published.isoformat() == "2022-01-18T17:15:00+00:00"  # "2022-01-18T17:15Z"
    assert record.modified.isoformat() == "2022-01-25T14:49:00+00:00"
    assert record.url == "https://nvd.nist.gov/vuln/detail/CVE-2022-0090"
    assert json.loads(record.raw) == item  # the 1.1 item as it is, not a 2.0 translation
    assert all(r.match_id == "" for r in record.ranges)  # 1.1 has no matchCriteriaId
    unscored = [r for r in legacy.values() if not r.severity]
    assert len(unscored) == 313 and all(r.score == 0.0 for r in unscored)


# -- the same CVE in both formats ------------------------------------------------------


def record_20(cve_id: str) -> VulnRecord:
    path = record_path(cve_id)
    (record,) = parse(path.read_bytes(), str(path))
    assert isinstance(record, VulnRecord)
    return record


def raw_20(cve_id: str) -> dict[str, Any]:
    cve: dict[str, Any] = json.loads(record_path(cve_id).read_bytes())["vulnerabilities"][0]["cve"]
    return cve


def raw_11(legacy_raw: dict[str, Any], cve_id: str) -> dict[str, Any]:
    item: dict[str, Any] = next(
        i for i in legacy_raw["CVE_Items"] if i["cve"]["CVE_data_meta"]["ID"] == cve_id
    )
    return item


def minute(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M")


def ranges(record: VulnRecord) -> list[tuple[Any, ...]]:
    """The ranges as matching uses them: the CPE triplet (with version and update), the
    bounds, their excluded flags and ``unknown`` (sorted: NVD lists a configuration's
    entries in another order in its 2.0 copy). Only ``vulnerable: true`` entries are
    ranges; the flags themselves are compared on the raw records (``flags_11/20``)."""
    out = []
    for r in record.ranges:
        cpe = parse_cpe(r.criteria)
        triplet = (cpe.vendor, cpe.product, cpe.target_sw, cpe.version, cpe.update)
        out.append((*triplet, r.start, r.start_excluded, r.end, r.end_excluded, r.unknown))
    return sorted(out)


def flags_11(item: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """(criteria, vulnerable, operator of the group it is in) from the raw 1.1 item: a top
    node with children is an AND/OR of its children, as a 2.0 configuration is of its
    nodes; a top node without children is a configuration of one node."""
    out = []
    for node in item["configurations"]["nodes"]:
        group = node["operator"] if node["children"] else "-"
        out += [(m["cpe23Uri"], m["vulnerable"], group) for m in raw_matches(node)]
    return sorted(out)


def flags_20(cve: dict[str, Any]) -> list[tuple[str, bool, str]]:
    return sorted(
        (m["criteria"], m["vulnerable"], config.get("operator", "-"))
        for config in cve.get("configurations", [])
        for node in config["nodes"]
        for m in node["cpeMatch"]
    )


def differences(legacy_raw: dict[str, Any], old: VulnRecord, cve_id: str) -> dict[str, Any]:
    """Every field read from both forms of ``cve_id`` whose values differ, as
    ``{field: (1.1 value, 2.0 value)}``; references and ranges as what only one side has.

    Differences of form only are checked here and not reported: 1.1 times are to the
    minute (2.0: milliseconds), 1.1 has no ``matchCriteriaId``, and the order of
    references and configuration entries is not kept between the two."""
    new = record_20(cve_id)
    assert (old.vuln_id, old.source, old.url) == (new.vuln_id, new.source, new.url)
    assert old.published.second == old.modified.second == 0
    assert all(r.match_id == "" for r in old.ranges) and all(r.match_id for r in new.ranges)
    found: dict[str, Any] = {}
    for name in ("summary", "rejected", "score", "severity"):
        if getattr(old, name) != getattr(new, name):
            found[name] = (getattr(old, name), getattr(new, name))
    for name in ("published", "modified"):
        pair = (minute(getattr(old, name)), minute(getattr(new, name)))
        if pair[0] != pair[1]:
            found[name] = pair
    if set(old.references) != set(new.references):
        found["references"] = (
            sorted(set(old.references) - set(new.references)),
            sorted(set(new.references) - set(old.references)),
        )
    if ranges(old) != ranges(new):
        found["ranges"] = (
            [r for r in ranges(old) if r not in ranges(new)],
            [r for r in ranges(new) if r not in ranges(old)],
        )
    vulnerable = (flags_11(raw_11(legacy_raw, cve_id)), flags_20(raw_20(cve_id)))
    if vulnerable[0] != vulnerable[1]:
        found["vulnerable flags"] = vulnerable
    return found


def nvd_changed_it(legacy_raw: dict[str, Any], cve_id: str) -> bool:
    """Whether NVD modified the record after the 1.1 snapshot (raw dates, to the minute)."""
    old = raw_11(legacy_raw, cve_id)["lastModifiedDate"]  # "2020-09-08T21:09Z"
    return bool(old.rstrip("Z") != raw_20(cve_id)["lastModified"][:16])


def test_esp_idf_and_configuration_is_the_same_in_both(
    legacy_raw: dict[str, Any], legacy: dict[str, VulnRecord]
) -> None:
    """CVE-2020-13595: NVD has not touched it since the 1.1 snapshot (last modified
    2020-09-08T21:09 in both). 1.1 nests the AND: one top node ``AND`` with two children
    (esp-idf 4.0.0..4.2 vulnerable, ``h:espressif:esp32:-`` not); 2.0 has one
    configuration ``operator: AND`` with the same two nodes. Everything read is equal:
    one range, the esp32 hardware a platform in both, never a range."""
    cve_id = "CVE-2020-13595"
    assert not nvd_changed_it(legacy_raw, cve_id)
    assert differences(legacy_raw, legacy[cve_id], cve_id) == {}
    assert flags_11(raw_11(legacy_raw, cve_id)) == [
        ("cpe:2.3:a:espressif:esp-idf:*:*:*:*:*:*:*:*", True, "AND"),
        ("cpe:2.3:h:espressif:esp32:-:*:*:*:*:*:*:*", False, "AND"),
    ]
    assert ranges(legacy[cve_id]) == [
        ("espressif", "esp-idf", "*", "*", "*", "4.0.0", False, "4.2", False, False)
    ]
    assert (legacy[cve_id].score, legacy[cve_id].severity) == (6.5, "MEDIUM")  # not v2's 3.3


def test_tensorflow_is_the_same_in_both(
    legacy_raw: dict[str, Any], legacy: dict[str, VulnRecord]
) -> None:
    """CVE-2022-29194: not modified after the 1.1 snapshot (2022-06-02T12:58 in both).
    Three bounded ranges and three exact pre-releases (``2.9.0:rc0..rc2``, the update
    field kept) are equal; only their order differs, and that of the references."""
    cve_id = "CVE-2022-29194"
    assert not nvd_changed_it(legacy_raw, cve_id)
    assert differences(legacy_raw, legacy[cve_id], cve_id) == {}
    assert len(legacy[cve_id].ranges) == 6
    assert [r.criteria for r in legacy[cve_id].ranges] != [
        r.criteria for r in record_20(cve_id).ranges
    ]  # the order changed; what is listed did not


def test_noxen_changed_only_its_date_for_what_is_read(
    legacy_raw: dict[str, Any], legacy: dict[str, VulnRecord]
) -> None:
    """CVE-2022-2956: NVD modified it after the snapshot (2022-08-26T18:16 in 1.1,
    2023-11-07T03:47 in 2.0, status Modified): the 2.0 record adds VulDB's Secondary
    CVSS 3.5 and a Secondary weakness. NVD's Primary 6.1 is the score in both, the
    ``noxen:-`` criteria is unchanged, so only ``modified`` differs."""
    cve_id = "CVE-2022-2956"
    assert nvd_changed_it(legacy_raw, cve_id)
    assert differences(legacy_raw, legacy[cve_id], cve_id) == {
        "modified": ("2022-08-26T18:16", "2023-11-07T03:47")
    }
    assert ranges(legacy[cve_id]) == [
        ("noxen_project", "noxen", "*", "-", "*", "-", False, "-", False, False)
    ]


def test_samba_gained_a_reference(
    legacy_raw: dict[str, Any], legacy: dict[str, VulnRecord]
) -> None:
    """CVE-2022-32746: modified after the snapshot (2022-08-30T19:54 → 2023-09-17T09:15):
    NVD added Gentoo's GLSA 202309-06 as a reference. The three samba ranges are equal
    (listed in another order)."""
    cve_id = "CVE-2022-32746"
    assert nvd_changed_it(legacy_raw, cve_id)
    assert differences(legacy_raw, legacy[cve_id], cve_id) == {
        "modified": ("2022-08-30T19:54", "2023-09-17T09:15"),
        "references": ([], [("web", "https://security.gentoo.org/glsa/202309-06")]),
    }


def test_libxpm_changed_vendor_and_references(
    legacy_raw: dict[str, Any], legacy: dict[str, VulnRecord]
) -> None:
    """CVE-2022-46285: modified after the snapshot (2023-06-20T14:15 → 2023-10-17T15:55).
    NVD renamed the CPE vendor ``libxpm_project`` to ``x.org`` (same product and bound,
    ``< 3.5.15``) and added two oss-security references. A package mapped to the old
    triplet matches the 1.1 record only, one mapped to the new triplet the 2.0 one."""
    cve_id = "CVE-2022-46285"
    assert nvd_changed_it(legacy_raw, cve_id)
    found = differences(legacy_raw, legacy[cve_id], cve_id)
    bound = ("libxpm", "*", "*", "*", "", False, "3.5.15", True, False)
    assert found == {
        "modified": ("2023-06-20T14:15", "2023-10-17T15:55"),
        "references": (
            [],
            [
                ("web", "http://www.openwall.com/lists/oss-security/2023/10/03/1"),
                ("web", "http://www.openwall.com/lists/oss-security/2023/10/03/10"),
            ],
        ),
        "ranges": ([("libxpm_project", *bound)], [("x.org", *bound)]),
        "vulnerable flags": (
            [("cpe:2.3:a:libxpm_project:libxpm:*:*:*:*:*:*:*:*", True, "-")],
            [("cpe:2.3:a:x.org:libxpm:*:*:*:*:*:*:*:*", True, "-")],
        ),
    }


def test_the_five_overlapping_cves_are_all_in_the_legacy_feed(
    legacy: dict[str, VulnRecord],
) -> None:
    assert set(OVERLAP) <= set(legacy)
    assert not any(legacy[c].rejected or record_20(c).rejected for c in OVERLAP)
    assert all(legacy[c].summary == record_20(c).summary for c in OVERLAP)  # English text


# -- the same semantics on shapes the fixture lacks -------------------------------------


def legacy_item(cve_id: str = "CVE-2024-0001", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "cve": {
            "data_type": "CVE",
            "data_format": "MITRE",
            "data_version": "4.0",
            "CVE_data_meta": {"ID": cve_id, "ASSIGNER": "cve@mitre.org"},
            "references": {"reference_data": [{"url": "https://example.org/a", "tags": []}]},
            "description": {"description_data": [{"lang": "en", "value": "x"}]},
        },
        "configurations": {"CVE_data_version": "4.0", "nodes": []},
        "impact": {},
        "publishedDate": "2024-01-01T00:00Z",
        "lastModifiedDate": "2024-01-02T00:00Z",
    }
    item.update(extra)
    return item


def feed(*items: Any, version: str = "4.0") -> bytes:
    return json.dumps(
        {"CVE_data_type": "CVE", "CVE_data_version": version, "CVE_Items": list(items)}
    ).encode()


def m11(cpe: str, *, vulnerable: bool = True, **bounds: str) -> dict[str, Any]:
    return {"vulnerable": vulnerable, "cpe23Uri": cpe, "cpe_name": [], **bounds}


def m20(cpe: str, *, vulnerable: bool = True, **bounds: str) -> dict[str, Any]:
    return {"vulnerable": vulnerable, "criteria": cpe, "matchCriteriaId": cpe[-8:], **bounds}


def n11(*entries: dict[str, Any], operator: str = "OR", negate: bool = False) -> dict[str, Any]:
    """A 1.1 node: ``entries`` are its cpe_match entries, or its children (nodes)."""
    children = [e for e in entries if "operator" in e]
    matches = [e for e in entries if "operator" not in e]
    node = {"operator": operator, "children": children, "cpe_match": matches}
    return {**node, "negate": True} if negate else node


def n20(*matches: dict[str, Any], negate: bool = False) -> dict[str, Any]:
    return {"operator": "OR", "negate": negate, "cpeMatch": list(matches)}


APP = "cpe:2.3:a:v:app:*:*:*:*:*:*:*:*"
OTHER = "cpe:2.3:a:v:other:1.2:*:*:*:*:*:*:*"
KERNEL = "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*"
OS = "cpe:2.3:o:fedoraproject:fedora:37:*:*:*:*:*:*:*"
HW = "cpe:2.3:h:v:board:-:*:*:*:*:*:*:*"


def test_nested_and_negate_and_v2_scores_read_as_their_2_0_form() -> None:
    """One CVE written both ways, as NVD converted 1.1 to 2.0: a top AND node with
    children is a configuration with ``operator: AND``; ``negate`` on the top node is
    the configuration's, on a child the node's. Only the raw record differs."""
    nodes_11 = [
        n11(m11(APP, versionEndExcluding="2.0"), m11(OS)),
        n11(
            n11(m11(KERNEL, versionStartIncluding="5.4", versionEndIncluding="5.10")),
            n11(m11(HW, vulnerable=False), m11(APP, vulnerable=False)),
            operator="AND",
        ),
        n11(n11(m11(OTHER)), operator="AND", negate=True),
        n11(n11(m11(APP, versionStartExcluding="3"), negate=True), n11(m11(OTHER)), operator="AND"),
    ]
    configs_20 = [
        {"nodes": [n20(m20(APP, versionEndExcluding="2.0"), m20(OS))]},
        {
            "operator": "AND",
            "nodes": [
                n20(m20(KERNEL, versionStartIncluding="5.4", versionEndIncluding="5.10")),
                n20(m20(HW, vulnerable=False), m20(APP, vulnerable=False)),
            ],
        },
        {"operator": "AND", "negate": True, "nodes": [n20(m20(OTHER))]},
        {
            "operator": "AND",
            "nodes": [n20(m20(APP, versionStartExcluding="3"), negate=True), n20(m20(OTHER))],
        },
    ]
    cvss2 = {"version": "2.0", "baseScore": 4.3}
    item = legacy_item(
        configurations={"CVE_data_version": "4.0", "nodes": nodes_11},
        impact={"baseMetricV2": {"cvssV2": cvss2, "severity": "MEDIUM"}},
    )
    cve = {
        "id": "CVE-2024-0001",
        "published": "2024-01-01T00:00:00.000",
        "lastModified": "2024-01-02T00:00:00.000",
        "vulnStatus": "Analyzed",
        "descriptions": [{"lang": "en", "value": "x"}],
        "references": [{"url": "https://example.org/a", "source": "x"}],
        "metrics": {
            "cvssMetricV2": [{"type": "Primary", "cvssData": cvss2, "baseSeverity": "MEDIUM"}]
        },
        "configurations": configs_20,
    }
    (old,) = parse(feed(item))
    (new,) = parse(json.dumps({"version": "2.0", "vulnerabilities": [{"cve": cve}]}).encode())
    assert isinstance(old, VulnRecord) and isinstance(new, VulnRecord)
    assert old.raw != new.raw and json.loads(old.raw) == item
    assert {k: v for k, v in vars(old).items() if k != "raw"} == {
        k: v for k, v in vars(new).items() if k != "raw"
    }
    assert [(r.criteria, r.start, r.end) for r in old.ranges] == [
        (APP, "", "2.0"),
        (KERNEL, "5.4", "5.10"),
        (OTHER, "1.2", "1.2"),  # the last configuration's; the negated child gives none
    ]
    assert (old.score, old.severity) == (4.3, "MEDIUM")


def test_reject_marker_is_the_start_of_the_english_description() -> None:
    def described(text: str) -> dict[str, Any]:
        item = legacy_item()
        item["cve"]["description"]["description_data"] = [
            {"lang": "fr", "value": "** REJECT ** ailleurs"},
            {"lang": "en", "value": text},
        ]
        return item

    records = parse(
        feed(
            described("** REJECT ** DO NOT USE THIS CANDIDATE NUMBER."),
            described("** DISPUTED ** a vendor disagrees"),
            described("Mentions ** REJECT ** later on"),
        )
    )
    assert [r.rejected for r in records if isinstance(r, VulnRecord)] == [True, False, False]


def test_bad_items_are_reported_and_the_rest_loads() -> None:
    bad_date = legacy_item("CVE-2024-0002", publishedDate="yesterday")
    bad_cpe = legacy_item(
        "CVE-2024-0003",
        configurations={
            "CVE_data_version": "4.0",
            "nodes": [{"operator": "OR", "children": [], "cpe_match": [m11("cpe:/a:x:y")]}],
        },
    )
    other_version = legacy_item("CVE-2024-0004")
    other_version["configurations"]["CVE_data_version"] = "5.0"
    no_id = legacy_item()
    del no_id["cve"]["CVE_data_meta"]
    items = parse(feed(legacy_item(), bad_date, bad_cpe, other_version, no_id, "text"))
    assert [type(i).__name__ for i in items] == ["VulnRecord", *["RecordProblem"] * 5]
    assert [str(i) for i in items[1:]] == [
        "feed.json: CVE_Items[1] (CVE-2024-0002): publishedDate 'yesterday' is not an ISO "
        "8601 time",
        "feed.json: CVE_Items[2] (CVE-2024-0003): 'cpe:/a:x:y' is not a CPE 2.3 formatted "
        "string of 13 fields",
        "feed.json: CVE_Items[3] (CVE-2024-0004): unknown configurations.CVE_data_version "
        "'5.0' (4.0 is read)",
        "feed.json: CVE_Items[4]: cve.CVE_data_meta is not an object",
        "feed.json: CVE_Items[5]: CVE_Items[] is not an object",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (feed(version="3.0"), "unknown NVD 1.1 feed CVE_data_version '3.0' (4.0 is read)"),
        (feed(legacy_item(), version="5.0"), "unknown NVD 1.1 feed CVE_data_version '5.0'"),
        (b'{"CVE_data_version": "4.0", "CVE_Items": {}}', "CVE_Items is not a list"),
        (b'{"CVE_data_version": "4.0", "CVE_Items": [{"cve": ', "malformed JSON"),
    ],
)
def test_unreadable_legacy_files_are_one_error_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        parse(data)
    assert str(caught.value).startswith("feed.json: ")


def test_a_version_after_the_items_is_still_checked() -> None:
    """As for 2.0 pages: the items before it are read, then the file is an error."""
    data = b'{"CVE_Items": [' + json.dumps(legacy_item()).encode() + b'], "CVE_data_version": "9"}'
    got: list[object] = []
    with pytest.raises(
        InputError, match=r"^feed\.json: unknown NVD 1\.1 feed CVE_data_version '9'"
    ):
        got.extend(PARSERS["nvd"](data, path="feed.json"))
    assert [type(r).__name__ for r in got] == ["VulnRecord"]


def test_a_cut_feed_gives_its_whole_records_then_the_error() -> None:
    """The 1.1 feed is read one item at a time, as 2.0 feeds are."""
    data = legacy_path().read_bytes()
    got: list[object] = []
    with pytest.raises(InputError, match=r"^cut\.json: malformed JSON"):
        got.extend(PARSERS["nvd"](data[: len(data) // 2], path="cut.json"))
    assert 0 < len(got) < 669 and all(isinstance(r, VulnRecord) for r in got)


def test_an_empty_feed_and_a_single_item() -> None:
    assert parse(feed()) == []
    (one,) = parse(json.dumps(legacy_item("CVE-2024-0009")).encode())
    assert isinstance(one, VulnRecord) and one.vuln_id == "CVE-2024-0009"


# -- end to end: the loader and the store ----------------------------------------------


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def current(store: Store, cve_id: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The current record's ``modified`` and its (vendor, product, end) ranges (distinct:
    a record loaded again after another one writes its ``CpeMatch`` rows again, which
    the table's ReplacingMergeTree folds only when it merges)."""
    ((modified, vuln_hash),) = store.query(
        "SELECT argMax(vuln_modified_date, ts), argMax(vuln_hash, ts) FROM Vulnerabilities "
        "WHERE vuln_id = {v:String}",
        {"v": cve_id},
    )
    rows = store.query(
        "SELECT DISTINCT cpm_vendor, cpm_product, cpm_version_end FROM CpeMatch "
        "WHERE vuln_id = {v:String} AND vuln_hash = {h:UInt64} ORDER BY cpm_vendor",
        {"v": cve_id, "h": vuln_hash},
    )
    return minute(modified), [(str(v), str(p), str(e)) for v, p, e in rows]


def test_load_the_legacy_feed_twice_then_the_2_0_records(
    store: Store, tmp_path: Path, legacy_raw: dict[str, Any]
) -> None:
    """The 1.1 feed loads whole; loading it again (here gzipped) writes nothing; a 2.0
    record of the same CVE then replaces the 1.1 one, as any changed NVD record does:
    both are source ``nvd`` and their raw records differ, so even CVE-2020-13595, which
    NVD did not change, is written again (and rematched). Loading the older 1.1 feed once
    more writes nothing: a record of the same source modified before the stored one is
    older than it (before, the archive's records went back over the newer ones)."""
    path = legacy_path()
    first = load_vulns(store, source="nvd", paths=[path])
    assert (first.files, first.records, first.written, first.rejected) == (1, 669, 669, 29)
    assert first.problems == []
    ((vulns, rejected, kept),) = store.query(
        "SELECT count(), countIf(vuln_rejected = 1), countIf(vuln_json = {raw:String}) "
        "FROM Vulnerabilities",
        {"raw": next(r for r in parse(path.read_bytes()) if isinstance(r, VulnRecord)).raw},
    )
    assert (vulns, rejected, kept) == (669, 29, 1)
    # CpeMatch keeps one row per distinct range of a record (as for 2.0 feeds).
    distinct = 0
    for item in legacy_raw["CVE_Items"]:
        seen = {
            (m["cpe23Uri"], tuple(sorted((k, v) for k, v in m.items() if k.startswith("version"))))
            for node in item["configurations"]["nodes"]
            for m in raw_matches(node)
            if m["vulnerable"]
            and (m["cpe23Uri"].split(":")[2] == "a" or ":linux:linux_kernel:" in m["cpe23Uri"])
        }
        distinct += len(seen)
    ((ranges_stored,),) = store.query("SELECT count() FROM CpeMatch")
    assert ranges_stored == distinct

    packed = tmp_path / "nvdcve-1.1-test.json.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    again = load_vulns(store, source="nvd", paths=[packed])
    assert (again.records, again.written, again.unchanged, again.problems) == (669, 0, 669, [])
    assert store.query("SELECT count() FROM Vulnerabilities") == [(669,)]

    assert current(store, "CVE-2022-46285") == (
        "2023-06-20T14:15",
        [("libxpm_project", "libxpm", "3.5.15")],
    )
    newer = load_vulns(
        store,
        source="nvd",
        paths=[record_path("CVE-2022-46285"), record_path("CVE-2020-13595")],
    )
    assert (newer.written, newer.kept, newer.unchanged) == (2, 0, 0)
    assert current(store, "CVE-2022-46285") == ("2023-10-17T15:55", [("x.org", "libxpm", "3.5.15")])
    assert current(store, "CVE-2020-13595")[1] == [("espressif", "esp-idf", "4.2")]

    older = load_vulns(store, source="nvd", paths=[path])
    assert (older.written, older.unchanged, older.kept, older.older) == (0, 667, 0, 2)
    assert "2 older than the stored record" in older.line()
    assert current(store, "CVE-2022-46285") == ("2023-10-17T15:55", [("x.org", "libxpm", "3.5.15")])
