"""The NVD CPE match feed parser, NVD's matchCriteriaId on ranges, and OVAL definitions
whose criteria group packages under several platforms.

Expected values are read by hand from the small files in tests/data/vulns (written from
the formats' documentation, see PROVENANCE.md) and from the inline OVAL documents.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.sources.vulns import PARSERS, AffectedRange, RecordProblem, VulnRecord
from repotrack.sources.vulns.cpe_match import MatchString, parse_cpe_match
from tests.conftest import need_fixtures

DATA = Path(__file__).parents[2] / "data" / "vulns"


def _match(name: str) -> list[MatchString | RecordProblem]:
    path = DATA / name
    return list(parse_cpe_match(path.read_bytes(), path=name))


def test_api_page_match_strings_with_their_concrete_names() -> None:
    squid, lodash, broken, escaped = _match("cpematch-2.0-page.json")
    assert isinstance(squid, MatchString) and isinstance(lodash, MatchString)
    assert squid.match_id == "0E3B1D0B-0000-4A52-9D6C-0A3E1B2C3D4E"
    assert (squid.cpe.vendor, squid.cpe.product, squid.cpe.target_sw) == (
        "squid-cache",
        "squid",
        "*",
    )
    assert (squid.start, squid.start_excluded, squid.end, squid.end_excluded) == (
        "",
        False,
        "7.2",
        True,
    )
    assert squid.names == (  # the repeated name once
        "cpe:2.3:a:squid-cache:squid:6.10:*:*:*:*:*:*:*",
        "cpe:2.3:a:squid-cache:squid:7.1:*:*:*:*:*:*:*",
    )
    assert squid.active and squid.modified.isoformat() == "2025-10-20T15:01:02.345000+00:00"
    assert (lodash.active, lodash.start, lodash.end, lodash.end_excluded) == (
        False,
        "4.0.0",
        "4.17.20",
        False,
    )
    assert lodash.cpe.target_sw == "node.js" and lodash.names == ()
    assert isinstance(broken, RecordProblem)
    assert str(broken) == "cpematch-2.0-page.json: match[2]: criteria is missing or not a string"
    assert isinstance(escaped, MatchString)
    assert escaped.cpe.product == "wp_maintenance_mode_&_coming_soon"


def test_legacy_feed_entries_get_stable_ids() -> None:
    mc, xz, broken = _match("nvdcpematch-1.0-excerpt.json")
    assert isinstance(mc, MatchString) and isinstance(xz, MatchString)
    assert mc.match_id.startswith("legacy:") and mc.match_id != xz.match_id
    assert mc.match_id == _match("nvdcpematch-1.0-excerpt.json")[0].match_id  # type: ignore[union-attr]
    assert (mc.end, mc.end_excluded, len(mc.names)) == ("4.8.26", False, 2)
    assert (xz.start, xz.end, xz.names) == ("", "", ("cpe:2.3:a:tukaani:xz:5.6.0:*:*:*:*:*:*:*",))
    assert isinstance(broken, RecordProblem) and "not a CPE 2.3" in broken.message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"version": "3.0", "matchStrings": []}', "unknown CPE match schema version"),
        (b'{"vulnerabilities": []}', "neither a CPE match API page"),
        (b"[1]", "is a JSON object"),
        (b'{"matches": {}}', "is not a list"),
    ],
)
def test_unreadable_documents(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        list(parse_cpe_match(data, path="x.json"))


def test_nvd_ranges_carry_their_match_criteria_id() -> None:
    path = need_fixtures("cve", "nvd-2.0", "records", "CVE-2021-36370.json")
    (record,) = PARSERS["nvd"](path.read_bytes(), path=str(path))
    assert isinstance(record, VulnRecord)
    (found,) = record.ranges
    raw = path.read_text()
    assert found.match_id and found.match_id in raw  # the cpeMatch's matchCriteriaId
    # The id is not part of a range's identity.
    assert found == AffectedRange(found.criteria, end="4.8.26")


# -- OVAL: platforms per criteria group --------------------------------------------------

_HEAD = b"""<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"
  xmlns:l="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux">"""


def _oval(definition: bytes, tests: bytes, objects: bytes, states: bytes) -> VulnRecord:
    doc = (
        _HEAD
        + b"<definitions>"
        + definition
        + b"</definitions><tests>"
        + tests
        + b"</tests><objects>"
        + objects
        + b"</objects><states>"
        + states
        + b"</states></oval_definitions>"
    )
    items = list(PARSERS["oval"](doc, path="x.xml"))
    (record,) = items
    assert isinstance(record, VulnRecord), items
    return record


def _test(n: int, obj: str, state: str = "") -> bytes:
    ref = f'<l:state state_ref="oval:x:ste:{state}"/>' if state else ""
    return (
        f'<l:rpminfo_test id="oval:x:tst:{n}" check="at least one">'
        f'<l:object object_ref="oval:x:obj:{obj}"/>{ref}</l:rpminfo_test>'
    ).encode()


def _object(name: str) -> bytes:
    return (
        f'<l:rpminfo_object id="oval:x:obj:{name}"><l:name>{name}</l:name></l:rpminfo_object>'
    ).encode()


def _state(n: str, kind: str, operation: str, value: str) -> bytes:
    return (
        f'<l:rpminfo_state id="oval:x:ste:{n}"><l:{kind} operation="{operation}">{value}'
        f"</l:{kind}></l:rpminfo_state>"
    ).encode()


def test_red_hat_definition_for_two_releases_keeps_each_fix_on_its_release() -> None:
    definition = b"""<definition class="patch" id="oval:x:def:1" version="1"><metadata>
      <title>RHSA-2025:0001: bind security update (Important)</title>
      <reference source="RHSA" ref_id="RHSA-2025:0001"/>
      <reference source="CVE" ref_id="CVE-2025-40778"/>
      <advisory><affected_cpe_list><cpe>cpe:/o:redhat:enterprise_linux:8</cpe>
        <cpe>cpe:/o:redhat:enterprise_linux:9</cpe></affected_cpe_list></advisory>
      </metadata>
      <criteria operator="OR">
       <criteria operator="AND">
        <criterion test_ref="oval:x:tst:1" comment="Red Hat Enterprise Linux 8 is installed"/>
        <criteria operator="OR"><criteria operator="AND">
         <criterion test_ref="oval:x:tst:3" comment="bind is earlier than 32:9.11.36-16.el8_10.2"/>
         <criterion test_ref="oval:x:tst:5" comment="bind is signed with Red Hat key"/>
        </criteria></criteria>
       </criteria>
       <criteria operator="AND">
        <criterion test_ref="oval:x:tst:2" comment="Red Hat Enterprise Linux 9 is installed"/>
        <criterion test_ref="oval:x:tst:4" comment="bind is earlier than 32:9.16.23-18.el9_4.6"/>
       </criteria>
      </criteria></definition>"""
    tests = (
        _test(1, "redhat-release", "8")
        + _test(2, "redhat-release", "9")
        + _test(3, "bind", "b8")
        + _test(4, "bind", "b9")
        + _test(5, "bind", "key")
    )
    states = (
        _state("8", "version", "pattern match", "^8[^\\d]")
        + _state("9", "version", "pattern match", "^9[^\\d]")
        + _state("b8", "evr", "less than", "32:9.11.36-16.el8_10.2")
        + _state("b9", "evr", "less than", "32:9.16.23-18.el9_4.6")
        + _state("key", "signature_keyid", "equals", "199e2f91fd431d51")
    )
    record = _oval(definition, tests, _object("redhat-release") + _object("bind"), states)
    assert record.vuln_id == "RHSA-2025:0001"
    assert record.ranges == (
        AffectedRange(
            "osv:Red Hat Enterprise Linux 8/bind", end="32:9.11.36-16.el8_10.2", end_excluded=True
        ),
        AffectedRange(
            "osv:Red Hat Enterprise Linux 9/bind", end="32:9.16.23-18.el9_4.6", end_excluded=True
        ),
    )


def test_suse_product_groups_give_their_packages_every_product() -> None:
    definition = b"""<definition class="vulnerability" id="oval:x:def:2" version="1"><metadata>
      <title>CVE-2021-37750</title><reference source="CVE" ref_id="CVE-2021-37750"/>
      <affected family="unix"><platform>SUSE Linux Enterprise Server 15 SP1</platform>
       <platform>SUSE Linux Enterprise Desktop 15 SP1</platform>
       <platform>SUSE Linux Enterprise Server 12 SP5</platform></affected></metadata>
      <criteria operator="OR">
       <criteria operator="AND">
        <criteria operator="OR">
         <criterion test_ref="oval:x:tst:1"
          comment="SUSE Linux Enterprise Server 15 SP1 is installed"/>
         <criterion test_ref="oval:x:tst:2"
          comment="SUSE Linux Enterprise Desktop 15 SP1 is installed"/>
        </criteria>
        <criteria operator="OR">
         <criterion test_ref="oval:x:tst:4" comment="krb5-1.15.2-4.25 is installed"/>
        </criteria>
       </criteria>
       <criteria operator="AND">
        <criterion test_ref="oval:x:tst:3"
         comment="SUSE Linux Enterprise Server 12 SP5 is installed"/>
        <criterion test_ref="oval:x:tst:5" comment="krb5-1.12.5-40.43.1 is installed"/>
        <criterion test_ref="oval:x:tst:6" comment="kernel-default is not affected"/>
       </criteria>
      </criteria></definition>"""
    tests = (
        _test(1, "sles-release", "15.1")
        + _test(2, "sled-release", "15.1")
        + _test(3, "sles-release", "12.5")
        + _test(4, "krb5", "k15")
        + _test(5, "krb5", "k12")
        + _test(6, "kernel-default", "zero")
    )
    objects = (
        _object("sles-release")
        + _object("sled-release")
        + _object("krb5")
        + _object("kernel-default")
    )
    states = (
        _state("15.1", "version", "equals", "15.1")
        + _state("12.5", "version", "equals", "12.5")
        + _state("k15", "evr", "less than", "0:1.15.2-4.25")
        + _state("k12", "evr", "less than", "0:1.12.5-40.43.1")
        + _state("zero", "version", "equals", "0")
    )
    record = _oval(definition, tests, objects, states)
    assert record.ranges == (
        AffectedRange(
            "osv:SUSE Linux Enterprise Server 15 SP1/krb5", end="0:1.15.2-4.25", end_excluded=True
        ),
        AffectedRange(
            "osv:SUSE Linux Enterprise Desktop 15 SP1/krb5", end="0:1.15.2-4.25", end_excluded=True
        ),
        AffectedRange(
            "osv:SUSE Linux Enterprise Server 12 SP5/krb5",
            end="0:1.12.5-40.43.1",
            end_excluded=True,
        ),
        AffectedRange.statement("osv:SUSE Linux Enterprise Server 12 SP5/kernel-default"),
    )


def test_one_platform_keeps_the_definitions_stream() -> None:
    definition = b"""<definition class="patch" id="oval:x:def:3" version="1"><metadata>
      <title>ELSA-2025-0001</title><reference source="elsa" ref_id="ELSA-2025-0001"/>
      <affected family="unix"><platform>Oracle Linux 9</platform></affected></metadata>
      <criteria operator="AND">
       <criterion test_ref="oval:x:tst:1" comment="Oracle Linux 9 is installed"/>
       <criterion test_ref="oval:x:tst:2" comment="bind is earlier than 32:9.16.23-24.el9"/>
      </criteria></definition>"""
    tests = _test(1, "oraclelinux-release", "9") + _test(2, "bind", "b")
    states = _state("9", "version", "pattern match", "^9") + _state(
        "b", "evr", "less than", "32:9.16.23-24.el9"
    )
    record = _oval(definition, tests, _object("oraclelinux-release") + _object("bind"), states)
    assert record.ranges == (
        AffectedRange("osv:Oracle Linux 9/bind", end="32:9.16.23-24.el9", end_excluded=True),
    )
