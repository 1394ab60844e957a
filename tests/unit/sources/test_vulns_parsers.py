"""NVD 2.0, CVE 5 and OSV parsers on real records (../shared/fixtures/cve) and bad input.

Expected values are read by hand from the fixture files; the NVD page's range count is
recounted here independently from the raw JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from repotrack.errors import InputError
from repotrack.sources.vulns import PARSERS, AffectedRange, RecordProblem, VulnRecord, parse_cpe
from tests.conftest import need_fixtures


def parse(source: str, path: Path) -> list[VulnRecord | RecordProblem]:
    return list(PARSERS[source](path.read_bytes(), path=str(path)))


def only(items: list[VulnRecord | RecordProblem]) -> VulnRecord:
    (record,) = items
    assert isinstance(record, VulnRecord)
    return record


def test_registry_is_pinned() -> None:
    assert sorted(PARSERS) == [
        "almalinux",
        "bdu",
        "csaf",
        "cve5",
        "cvrf",
        "ghsa",
        "nvd",
        "osv",
        "oval",
        "redhat",
        "updateinfo",
    ]


# -- CPE ------------------------------------------------------------------------------


def test_cpe_split_on_unescaped_colons_and_unescape() -> None:
    cpe = parse_cpe(r"cpe:2.3:a:themeisle:wp_maintenance_mode_\&_coming_soon:*:*:*:*:*:*:*:*")
    assert (cpe.vendor, cpe.product, cpe.version) == (
        "themeisle",
        "wp_maintenance_mode_&_coming_soon",
        "*",
    )
    assert parse_cpe(r"cpe:2.3:a:v:a\:b:1.0:*:*:*:*:node.js:*:*").product == "a:b"
    assert parse_cpe(r"cpe:2.3:a:v:a\:b:1.0:*:*:*:*:node.js:*:*").target_sw == "node.js"


def test_cpe_names_without_escapes_split_as_the_escape_aware_reader_splits_them() -> None:
    """The plain split (names without a backslash) against the character-by-character
    reader, on every criteria string of a real NVD page."""
    from repotrack.sources.vulns.cpe import _split_escaped

    page = json.loads(
        need_fixtures("cve", "nvd-2.0", "api-responses", "full-page.json").read_text()
    )
    names = [
        match["criteria"]
        for item in page["vulnerabilities"]
        for config in item["cve"].get("configurations", [])
        for node in config["nodes"]
        for match in node["cpeMatch"]
    ]
    assert len(names) > 40
    for name in names:
        assert "\\" not in name
        assert name.split(":") == _split_escaped(name)
        assert parse_cpe(name) == parse_cpe(name)  # remembered, the same answer


@pytest.mark.parametrize(
    "text",
    ["cpe:/a:redhat:enterprise_linux:9", "cpe:2.3:a:v:p:1", "cpe:2.3:x:v:p:*:*:*:*:*:*:*:*", "a\\"],
)
def test_bad_cpe_names_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="CPE"):
        parse_cpe(text)


# -- NVD ------------------------------------------------------------------------------


def test_nvd_bare_record_with_end_including() -> None:
    record = only(parse("nvd", need_fixtures("cve", "nvd-2.0", "records", "CVE-2021-36370.json")))
    assert record.vuln_id == "CVE-2021-36370"
    assert (record.score, record.severity, record.rejected) == (7.5, "HIGH", False)
    assert record.published.isoformat() == "2021-08-30T19:15:08.917000+00:00"
    assert record.ranges == (
        AffectedRange(
            "cpe:2.3:a:midnight-commander:midnight_commander:*:*:*:*:*:*:*:*", end="4.8.26"
        ),
    )
    assert json.loads(record.raw)["id"] == "CVE-2021-36370"


def test_nvd_exact_versions_and_platform_only_entries() -> None:
    xz = only(parse("nvd", need_fixtures("cve", "nvd-2.0", "records", "CVE-2024-3094.json")))
    assert [(r.start, r.end) for r in xz.ranges] == [("5.6.0", "5.6.0"), ("5.6.1", "5.6.1")]
    esp = only(parse("nvd", need_fixtures("cve", "nvd-2.0", "records", "CVE-2020-13595.json")))
    # The AND configuration's esp32 hardware is vulnerable: false, never a range.
    assert [r.criteria.split(":")[4] for r in esp.ranges] == ["esp-idf"]


def test_nvd_os_cpes_are_not_ranges_but_the_kernel_is() -> None:
    webp = only(parse("nvd", need_fixtures("cve", "nvd-2.0", "records", "CVE-2023-4863.json")))
    assert all(":a:" in r.criteria for r in webp.ranges)
    assert any(":libwebp:" in r.criteria and r.end == "1.3.2" for r in webp.ranges)


def test_nvd_page_ranges_match_an_independent_count() -> None:
    path = need_fixtures("cve", "nvd-2.0", "api-responses", "full-page.json")
    records = parse("nvd", path)
    assert len(records) == 38 and all(isinstance(r, VulnRecord) for r in records)
    raw = json.loads(path.read_bytes())
    expected = sum(
        1
        for item in raw["vulnerabilities"]
        for config in item["cve"].get("configurations", [])
        for node in config["nodes"]
        for match in node["cpeMatch"]
        if match["vulnerable"]
        and (
            match["criteria"].split(":")[2] == "a"
            or match["criteria"].split(":")[3:5] == ["linux", "linux_kernel"]
        )
    )
    assert sum(len(r.ranges) for r in records if isinstance(r, VulnRecord)) == expected


def _nvd_page(*cves: dict[str, Any]) -> bytes:
    return json.dumps(
        {"format": "NVD_CVE", "version": "2.0", "vulnerabilities": [{"cve": c} for c in cves]}
    ).encode()


GOOD = {
    "id": "CVE-2024-0001",
    "published": "2024-01-01T00:00:00.000",
    "lastModified": "2024-01-02T00:00:00.000",
    "descriptions": [{"lang": "en", "value": "x"}],
    "references": [],
}


def test_nvd_bad_records_are_reported_and_the_rest_loads() -> None:
    bad_date = dict(GOOD, id="CVE-2024-0002", published="yesterday")
    bad_cpe = dict(
        GOOD,
        id="CVE-2024-0003",
        configurations=[
            {"nodes": [{"cpeMatch": [{"vulnerable": True, "criteria": "cpe:/a:x:y"}]}]}
        ],
    )
    rejected = dict(GOOD, id="CVE-2024-0004", vulnStatus="Rejected")
    items = list(PARSERS["nvd"](_nvd_page(GOOD, bad_date, bad_cpe, rejected), path="page.json"))
    assert [type(i).__name__ for i in items] == [
        "VulnRecord",
        "RecordProblem",
        "RecordProblem",
        "VulnRecord",
    ]
    assert str(items[1]) == (
        "page.json: vulnerabilities[1] (CVE-2024-0002): published 'yesterday' is not an "
        "ISO 8601 time"
    )
    assert "CPE 2.3" in str(items[2])
    assert isinstance(items[3], VulnRecord) and items[3].rejected


def test_nvd_item_whose_cve_is_no_object_is_a_record_problem() -> None:
    items = list(PARSERS["nvd"](b'{"vulnerabilities": [{"cve": "x"}]}', path="page.json"))
    assert [str(i) for i in items] == ["page.json: vulnerabilities[0]: cve is not an object"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"vulnerabilities": [', "malformed JSON at line 1"),
        (b'{"version": "3.0", "vulnerabilities": []}', "unknown NVD schema version '3.0'"),
        (b'{"CVE_data_version": "3.0", "CVE_Items": []}', "unknown NVD 1.1 feed CVE_data_version"),
        (b"[1, 2]", "an NVD document is a JSON object"),
        (b'{"a": "\xc3"}', "not UTF-8"),
    ],
)
def test_nvd_unreadable_documents_are_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        list(PARSERS["nvd"](data, path="feed.json"))
    assert str(caught.value).startswith("feed.json: ")


# -- CVE 5 ----------------------------------------------------------------------------


def cve5(name: str) -> VulnRecord:
    found = list(need_fixtures("cve", "cve5", "cves").rglob(f"{name}.json"))
    return only(parse("cve5", found[0]))


def test_cve5_changes_split_a_range() -> None:
    record = cve5("CVE-2021-44228")
    # version 2.0-beta9, lessThan log4j-core*, changes at 2.3.1 (off), 2.4 (on),
    # 2.12.2 (off), 2.13.0 (on), 2.15.0 (off).
    assert [(r.start, r.end, r.end_excluded) for r in record.ranges if not r.not_affected] == [
        ("2.0-beta9", "2.3.1", True),
        ("2.4", "2.12.2", True),
        ("2.13.0", "2.15.0", True),
    ]
    # The "off" stretches are unaffected statements; "log4j-core*" means "any later".
    assert [(r.start, r.end, r.end_excluded) for r in record.ranges if r.not_affected] == [
        ("2.3.1", "2.4", True),
        ("2.12.2", "2.13.0", True),
        ("2.15.0", "", False),
    ]


def test_cve5_unaffected_entries_are_not_affected_statements() -> None:
    """Kernel CNA style: defaultStatus affected, the fixed branches listed as unaffected
    (CVE-2025-21631): every other version is affected, the listed ones are not."""
    kernel = cve5("CVE-2025-21631")
    listed = {
        (r.start, r.end, r.end_excluded, r.not_affected)
        for r in kernel.ranges
        if r.criteria == "cpe:2.3:a:linux:linux:*:*:*:*:*:*:*:*"
    }
    assert listed == {
        ("", "", False, False),  # defaultStatus affected: every version not listed
        ("", "6.12", True, True),  # 0 up to 6.12
        ("5.15.177", "5.16", True, True),  # 5.15.177 up to 5.15.*
        ("6.1.125", "6.2", True, True),
        ("6.6.72", "6.7", True, True),
        ("6.12.10", "6.13", True, True),
        ("6.13", "", False, True),  # 6.13 and any later
    }


def test_cve5_free_text_versions_are_unknown_not_guessed() -> None:
    record = cve5("CVE-2023-45803")
    assert record.ranges and all(r.unknown for r in record.ranges)
    assert {r.criteria for r in record.ranges} == {"cpe:2.3:a:urllib3:urllib3:*:*:*:*:*:*:*:*"}


def test_cve5_git_ranges_are_skipped_and_na_products_dropped() -> None:
    kernel = cve5("CVE-2025-21631")
    assert all(len(r.start) < 40 for r in kernel.ranges)
    assert cve5("CVE-2023-38408").ranges == ()


def test_cve5_rejected_and_unknown_versions() -> None:
    rejected = {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {
            "cveId": "CVE-2024-9999",
            "state": "REJECTED",
            "dateRejected": "2024-05-01T00:00:00Z",
            "dateUpdated": "2024-05-01T00:00:00Z",
        },
        "containers": {"cna": {"rejectedReasons": [{"lang": "en", "value": "duplicate"}]}},
    }
    record = only(list(PARSERS["cve5"](json.dumps(rejected).encode(), path="r.json")))
    assert (record.rejected, record.summary, record.ranges) == (True, "duplicate", ())
    with pytest.raises(InputError, match=r"unknown CVE record dataVersion '4\.0'"):
        list(PARSERS["cve5"](json.dumps(dict(rejected, dataVersion="4.0")).encode(), path="r"))


# -- OSV ------------------------------------------------------------------------------


def test_osv_distribution_advisory() -> None:
    path = need_fixtures("cve", "osv", "almalinux", "ALSA-2023:4520.json")
    record = only(parse("osv", path))
    assert (record.vuln_id, record.vuln_type, record.source) == (
        "ALSA-2023:4520",
        "ALSA",
        "osv:ALSA",
    )
    assert ("CVE", "CVE-2023-32681") in record.references
    assert record.ranges == (
        AffectedRange("osv:AlmaLinux:8/python3-requests", end="2.20.0-3.el8_8", end_excluded=True),
    )


def test_osv_events_and_withdrawn() -> None:
    record = {
        "schema_version": "1.6.0",
        "id": "GHSA-aaaa-bbbb-cccc",
        "modified": "2024-01-01T00:00:00Z",
        "withdrawn": "2024-02-01T00:00:00Z",
        "aliases": ["CVE-2024-1234"],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "demo"},
                "ranges": [
                    {
                        "type": "ECOSYSTEM",
                        "events": [
                            {"introduced": "0"},
                            {"fixed": "1.2"},
                            {"introduced": "2.0"},
                            {"last_affected": "2.3"},
                            {"introduced": "3.0"},
                        ],
                    },
                    {"type": "GIT", "repo": "https://x", "events": [{"introduced": "abc"}]},
                ],
            }
        ],
    }
    parsed = only(list(PARSERS["osv"](json.dumps(record).encode(), path="g.json")))
    assert parsed.rejected and parsed.vuln_type == "GHSA"
    assert [(r.start, r.end, r.end_excluded) for r in parsed.ranges] == [
        ("", "1.2", True),
        ("2.0", "2.3", False),
        ("3.0", "", False),
    ]
    record["affected"][0]["ranges"][0]["events"] = [{"introduced": "0", "fixed": "1"}]  # type: ignore[index]
    (problem,) = list(PARSERS["osv"](json.dumps(record).encode(), path="g.json"))
    assert isinstance(problem, RecordProblem) and "exactly one key" in problem.message


# -- CSAF -----------------------------------------------------------------------------


def test_csaf_advisory_products_become_evr_ranges_and_statements() -> None:
    path = need_fixtures("cve", "redhat", "csaf", "rhsa-2025_23414.json")
    record = only(parse("csaf", path))
    assert (record.vuln_id, record.severity, record.source) == (
        "RHSA-2025:23414",
        "Important",
        "csaf",
    )
    assert record.references == (("CVE", "CVE-2021-25220"), ("CVE", "CVE-2025-40778"))
    raw = json.loads(path.read_bytes())
    # Independent count: distinct (package name, status) over the binary products listed.
    names = {
        rel["full_product_name"]["product_id"]: rel["product_reference"].split("-32:")[0]
        for rel in raw["product_tree"]["relationships"]
    }
    expected_fixed = {
        names[p] for v in raw["vulnerabilities"] for p in v["product_status"]["fixed"]
    }
    expected_not = {
        names[p]
        for v in raw["vulnerabilities"]
        for p in v["product_status"]["known_not_affected"]
        if not p.endswith(".src")
    }
    fixed = {r.criteria.rsplit("/", 1)[1] for r in record.ranges if not r.not_affected}
    statements = {r.criteria.rsplit("/", 1)[1] for r in record.ranges if r.not_affected}
    assert (fixed, statements) == (expected_fixed, expected_not)
    bind = next(r for r in record.ranges if r.criteria == "osv:cpe:/o:redhat:rhel_els:6/bind")
    assert (bind.start, bind.end, bind.end_excluded) == ("", "32:9.8.2-0.68.rc1.el6_10.17", True)


def test_csaf_refuses_other_versions_and_non_csaf() -> None:
    with pytest.raises(InputError, match=r"unknown csaf_version '1\.2'"):
        list(PARSERS["csaf"](b'{"document": {"csaf_version": "1.2"}}', path="x.json"))
    with pytest.raises(InputError, match="not a CSAF document"):
        list(PARSERS["csaf"](b'{"id": "x"}', path="x.json"))
    (problem,) = PARSERS["csaf"](
        b'{"document": {"csaf_version": "2.0", "tracking": {}}}', path="x.json"
    )
    assert isinstance(problem, RecordProblem) and "tracking.id" in problem.message


# -- OVAL -----------------------------------------------------------------------------


def oval(*parts: str) -> list[VulnRecord | RecordProblem]:
    from repotrack.ingest.feed_files import path_documents

    path = need_fixtures("cve", *parts)
    ((_, data),) = path_documents(path, "oval")  # bzip2-packed, as Red Hat publishes them
    return list(PARSERS["oval"](data, path=path.name))


def test_oval_oracle_patch_definition() -> None:
    record = only(oval("oracle", "oval", "ELSA-2007-0057.xml"))
    assert (record.vuln_id, record.severity, record.source) == (
        "ELSA-2007-0057",
        "MODERATE",
        "oval",
    )
    assert record.references == (("CVE", "CVE-2007-0493"), ("CVE", "CVE-2007-0494"))
    # 8 packages "earlier than 30:9.3.3-8.el5" (7 bind* and caching-nameserver, counted
    # in the file by hand); "Oracle Linux 5 is installed" and "signed with" are no ranges.
    assert len(record.ranges) == 8
    assert {(r.end, r.end_excluded) for r in record.ranges} == {("30:9.3.3-8.el5", True)}
    assert all(r.criteria.startswith("osv:Oracle Linux 5/") for r in record.ranges)
    assert "osv:Oracle Linux 5/caching-nameserver" in {r.criteria for r in record.ranges}


def test_oval_red_hat_bzip2_stream_with_patch_and_unfixed_definitions() -> None:
    records = oval("redhat", "oval", "RHEL8", "ansible-2-including-unpatched.oval.xml.bz2")
    by_id = {r.vuln_id: r for r in records if isinstance(r, VulnRecord)}
    assert len(by_id) == len(records) == 5
    patch = by_id["RHSA-2019:3927"]
    assert patch.ranges[0] == AffectedRange(
        "osv:cpe:/a:redhat:ansible_engine:2.9/ansible", end="0:2.9.1-1.el8", end_excluded=True
    )
    unfixed = by_id["OVAL:CVE-2020-10744"]  # "ansible is installed": every version
    assert {r.criteria.rsplit("/", 1)[1] for r in unfixed.ranges} == {"ansible", "ansible-test"}
    assert all((r.start, r.end) == ("", "") for r in unfixed.ranges)


def test_oval_hand_edited_suse_file_reports_each_broken_definition() -> None:
    items = oval("suse", "oval", "suse_truncated.xml")
    problems = [str(i) for i in items if isinstance(i, RecordProblem)]
    assert len(problems) == 3
    assert any("unknown operation '6'" in p for p in problems)
    assert any("missing test" in p for p in problems)
    (good,) = [i for i in items if isinstance(i, VulnRecord)]
    assert good.ranges and all(r.not_affected for r in good.ranges)  # "is not affected"


def test_oval_greater_than_is_the_lower_bound_of_its_and_group() -> None:
    """Azure Linux: golang "earlier than 1.20.7-1" AND "greater than 0.0.0" is one range
    with both bounds; rubygem-rexml has only the upper one."""
    records = oval("azurelinux", "oval", "azurelinux-3.0-oval.xml")
    by_id = {r.vuln_id: r for r in records if isinstance(r, VulnRecord)}
    assert by_id["OVAL:CVE-2023-29409"].ranges == (
        AffectedRange(
            "osv:Azure Linux/golang",
            start="0:0.0.0.azl3",
            start_excluded=True,
            end="0:1.20.7-1.azl3",
            end_excluded=True,
        ),
    )
    assert by_id["OVAL:CVE-2024-35176"].ranges == (
        AffectedRange("osv:Azure Linux/rubygem-rexml", end="0:3.2.8-1.azl3", end_excluded=True),
    )


def test_oval_or_equal_bounds_and_a_lone_lower_bound() -> None:
    """Per AND group: "less than or equal" is an inclusive end; a "greater than or equal"
    test with no upper bound of its package in the group is a range open above, and one
    in another group does not bound this group's range."""
    doc = b"""<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"
      xmlns:l="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux">
     <definitions><definition class="vulnerability" id="oval:x:def:1" version="1">
      <metadata><title>t</title><affected family="unix"><platform>P</platform></affected>
       <reference source="CVE" ref_id="CVE-2099-0003" ref_url="https://x.invalid"/></metadata>
      <criteria operator="OR">
       <criteria operator="AND">
        <criterion test_ref="oval:x:tst:1" comment="a earlier than or equal 2.0"/>
       </criteria>
       <criteria operator="AND">
        <criterion test_ref="oval:x:tst:2" comment="a at least 3.0"/>
        <criterion test_ref="oval:x:tst:3" comment="b at least 1.0"/>
       </criteria>
      </criteria></definition></definitions>
     <tests>
      <l:rpminfo_test id="oval:x:tst:1" check="at least one"><l:object object_ref="oval:x:obj:a"/>
       <l:state state_ref="oval:x:ste:1"/></l:rpminfo_test>
      <l:rpminfo_test id="oval:x:tst:2" check="at least one"><l:object object_ref="oval:x:obj:a"/>
       <l:state state_ref="oval:x:ste:2"/></l:rpminfo_test>
      <l:rpminfo_test id="oval:x:tst:3" check="at least one"><l:object object_ref="oval:x:obj:b"/>
       <l:state state_ref="oval:x:ste:3"/></l:rpminfo_test>
     </tests>
     <objects><l:rpminfo_object id="oval:x:obj:a"><l:name>a</l:name></l:rpminfo_object>
      <l:rpminfo_object id="oval:x:obj:b"><l:name>b</l:name></l:rpminfo_object></objects>
     <states>
      <l:rpminfo_state id="oval:x:ste:1"><l:evr operation="less than or equal">0:2.0-1</l:evr>
      </l:rpminfo_state>
      <l:rpminfo_state id="oval:x:ste:2"><l:evr operation="greater than or equal">0:3.0-1</l:evr>
      </l:rpminfo_state>
      <l:rpminfo_state id="oval:x:ste:3"><l:evr operation="greater than">0:1.0-1</l:evr>
      </l:rpminfo_state>
     </states></oval_definitions>"""
    record = only(list(PARSERS["oval"](doc, path="x.xml")))
    assert record.ranges == (
        AffectedRange("osv:P/a", end="0:2.0-1"),
        AffectedRange("osv:P/a", start="0:3.0-1"),
        AffectedRange("osv:P/b", start="0:1.0-1", start_excluded=True),
    )


def test_oval_refuses_a_dtd_and_non_oval() -> None:
    with pytest.raises(InputError, match=r"DOCTYPE|DTD"):
        list(PARSERS["oval"](b'<!DOCTYPE x [<!ENTITY a "b">]><oval_definitions/>', path="x.xml"))
    with pytest.raises(InputError, match="no OVAL definitions"):
        list(PARSERS["oval"](b"<oval_definitions><generator/></oval_definitions>", path="x.xml"))
    with pytest.raises(InputError, match="malformed XML"):
        list(PARSERS["oval"](b"<oval_definitions><definitions>", path="x.xml"))


# -- BDU ------------------------------------------------------------------------------


def test_bdu_records_link_to_cves_and_bad_ones_are_reported() -> None:
    from tests.conftest import DATA

    items = parse("bdu", DATA / "vulns" / "bdu-export.xml")
    record, bad_id, bad_date = items
    assert isinstance(record, VulnRecord)
    assert (record.vuln_id, record.vuln_type, record.score) == ("BDU:2021-04321", "BDU", 7.5)
    assert record.references == (("CVE", "CVE-2025-62168"),)
    assert record.published.date().isoformat() == "2025-10-17"
    assert record.severity == "Высокий уровень опасности"
    assert record.ranges == ()
    assert isinstance(bad_id, RecordProblem) and "is not like BDU:2015-00001" in bad_id.message
    assert isinstance(bad_date, RecordProblem) and "dd.mm.yyyy" in bad_date.message


def test_cve5_cpe_applicability_gives_kernel_ranges() -> None:
    kernel = cve5("CVE-2025-21631")
    ranges = {(r.start, r.end) for r in kernel.ranges if ":o:linux:linux_kernel:" in r.criteria}
    assert ("5.15.168", "5.15.177") in ranges and ("6.12", "6.12.10") in ranges
    kernel_ranges = [r for r in kernel.ranges if ":o:linux:linux_kernel:" in r.criteria]
    assert all(r.end_excluded for r in kernel_ranges if r.end)
    assert ("6.11.2", "") in ranges  # versionStartIncluding alone: open above


def test_nvd_negated_nodes_give_no_range() -> None:
    # negate: true inverts a node (or a whole configuration): its entries are what is
    # *not* affected, so only the plain node's entry is a range.
    def node(product: str, *, negate: bool) -> dict[str, Any]:
        criteria = f"cpe:2.3:a:acme:{product}:*:*:*:*:*:*:*:*"
        match = {"vulnerable": True, "criteria": criteria, "versionEndExcluding": "2.0"}
        return {"operator": "OR", "negate": negate, "cpeMatch": [match]}

    cve = {
        **GOOD,
        "configurations": [
            {"operator": "AND", "nodes": [node("kept", negate=False), node("inner", negate=True)]},
            {"negate": True, "nodes": [node("whole", negate=False)]},
        ],
    }
    record = only(list(PARSERS["nvd"](_nvd_page(cve), path="page.json")))
    assert [r.criteria.split(":")[4] for r in record.ranges] == ["kept"]


def _vex(status: dict[str, list[str]]) -> bytes:
    """A Red Hat style VEX document (reference/vuln-formats.md §5): unfixed components
    are bare source names (purl without a version, ``?arch=src``) tied to a stream."""

    def component(name: str) -> dict[str, Any]:
        purl = f"pkg:rpm/redhat/{name}?arch=src"
        return {"name": name, "product_id": name,
                "product_identification_helper": {"purl": purl}}  # fmt: skip

    cpe = "cpe:/o:redhat:enterprise_linux:9"
    stream = {"name": "Red Hat Enterprise Linux 9", "product_id": "red_hat_enterprise_linux_9",
              "product_identification_helper": {"cpe": cpe}}  # fmt: skip
    tree = {
        "branches": [{"category": "vendor", "name": "Red Hat", "branches": [
            {"category": "product_family", "name": "RHEL",
             "branches": [{"category": "product_name", "name": stream["name"], "product": stream}]},
            {"category": "product_version", "name": "kernel", "product": component("kernel")},
            {"category": "product_version", "name": "bind", "product": component("bind")},
        ]}],
        "relationships": [
            {"category": "default_component_of", "product_reference": name,
             "relates_to_product_reference": "red_hat_enterprise_linux_9",
             "full_product_name": {"name": f"{name} as a component of RHEL 9",
                                   "product_id": f"red_hat_enterprise_linux_9:{name}"}}
            for name in ("kernel", "bind")
        ],
    }  # fmt: skip
    document = {
        "document": {"category": "csaf_vex", "csaf_version": "2.0", "title": "CVE-2030-0001",
                     "tracking": {"id": "CVE-2030-0001",
                                  "initial_release_date": "2030-01-01T00:00:00Z",
                                  "current_release_date": "2030-01-02T00:00:00Z"}},
        "product_tree": tree,
        "vulnerabilities": [{"cve": "CVE-2030-0001", "product_status": status}],
    }  # fmt: skip
    return json.dumps(document).encode()


def test_csaf_vex_unfixed_components_are_affected_and_not_affected_statements() -> None:
    """Red Hat's VEX names unfixed packages by bare source components (no version): a
    known_affected one is affected in every version of its stream, a known_not_affected
    one is a statement for the stream (not the skipped versioned source RPM of an
    advisory)."""
    data = _vex({"known_affected": ["red_hat_enterprise_linux_9:kernel"],
                 "known_not_affected": ["red_hat_enterprise_linux_9:bind"]})  # fmt: skip
    record = only(list(PARSERS["csaf"](data, path="cve-2030-0001.json")))
    assert record.vuln_id == "CSAF:CVE-2030-0001"
    found = {(r.criteria, r.start, r.end, r.not_affected) for r in record.ranges}
    assert found == {
        ("osv:cpe:/o:redhat:enterprise_linux:9/kernel", "", "", False),
        ("osv:cpe:/o:redhat:enterprise_linux:9/bind", "", "", True),
    }


def test_csaf_first_and_last_affected_bound_the_range() -> None:
    raw = json.loads(need_fixtures("cve", "redhat", "csaf", "rhsa-2025_23414.json").read_bytes())
    vulnerability = raw["vulnerabilities"][0]
    product = vulnerability["product_status"]["fixed"][0]
    for kind, bounds in (("first_affected", ("start", True)), ("last_affected", ("end", False))):
        raw["vulnerabilities"] = [{**vulnerability, "product_status": {kind: [product]}}]
        record = only(list(PARSERS["csaf"](json.dumps(raw).encode(), path="x.json")))
        (found,) = record.ranges
        side, open_end = bounds
        assert getattr(found, side).startswith("32:9.") and found.end_excluded is False
        assert (found.end == "") is open_end and (found.start == "") is not open_end
