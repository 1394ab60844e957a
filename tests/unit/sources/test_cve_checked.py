"""ALT's manual CVE checks as altrepodb ships them (``sql/CveChecked-initial.json``).

The counts are the file's own, made by hand with ``grep -c`` on the fixture (134 rows:
57 ``patched``, 77 ``manually_excluded``; 72 checked for every version, ``*``), and the
odd conditions ALT's team wrote are each read as the module's docstring says.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from repotrack.sources.vulns import RecordProblem
from repotrack.sources.vulns.cve_checked import (
    CheckCondition,
    CveCheck,
    parse_condition,
    parse_cve_checked,
)
from tests.conftest import need_fixtures

SEED = ("cve", "alt", "CveChecked-initial.json")


def _checks(data: bytes, path: str = "x.json") -> tuple[list[CveCheck], list[RecordProblem]]:
    items = list(parse_cve_checked(data, path=path))
    return (
        [i for i in items if isinstance(i, CveCheck)],
        [i for i in items if isinstance(i, RecordProblem)],
    )


def test_altrepodb_seed_file_reads_whole() -> None:
    fixture = need_fixtures(*SEED)
    data = fixture.read_bytes()
    checks, problems = _checks(data, str(fixture))
    assert problems == []
    assert len(checks) == data.count(b"\n") == 134
    assert (
        Counter(c.status for c in checks)
        == {
            "patched": data.count(b'"cc_status":"patched"'),
            "manually_excluded": data.count(b'"cc_status":"manually_excluded"'),
        }
        == {"patched": 57, "manually_excluded": 77}
    )
    every = data.count(b'"cc_checked_ver.pkg_evr":["*"]')
    assert sum(1 for c in checks if c.versions[0][0] == "*") == every == 72
    ed = [c for c in checks if c.pkg_name == "ed"]
    assert [(c.cve_id, c.versions) for c in ed] == [
        ("CVE-2006-6939", (("0.2-alt1", "*"),)),
        ("CVE-2008-3916", (("0.2-alt7", "*"),)),
    ]
    assert ed[1].description == "fixed by ldv in 1:0.2-alt7"
    assert ed[1].checked.isoformat() == "2008-08-31T00:00:00"


@pytest.mark.parametrize(
    ("written", "name", "condition"),
    [
        ("*", "arpwatch", CheckCondition("")),
        ("0.2-alt7", "ed", CheckCondition(">=", None, "0.2", "alt7")),  # ed has epoch 1
        ("1:0.2-alt7", "ed", CheckCondition(">=", 1, "0.2", "alt7")),
        ("1.4.23", "gnupg", CheckCondition(">=", None, "1.4.23", "")),  # no release
        ("< 4", "bash", CheckCondition("<", None, "4", "")),
        ("realmd-0.16.3-alt3", "realmd", CheckCondition(">=", None, "0.16.3", "alt3")),
        (
            "4.5.1528009330.e68ebe2b-alt5",
            "openqa",
            CheckCondition(">=", None, "4.5.1528009330.e68ebe2b", "alt5"),
        ),
        ("12.0-alt1.20190424", "odoo", CheckCondition(">=", None, "12.0", "alt1.20190424")),
        ("== 2.0-alt1", "x", CheckCondition("=", None, "2.0", "alt1")),
        ("<=2:2.0-alt1", "x", CheckCondition("<=", 2, "2.0", "alt1")),
    ],
)
def test_conditions_as_alt_writes_them(written: str, name: str, condition: CheckCondition) -> None:
    assert parse_condition(written, name) == condition


@pytest.mark.parametrize("written", ["", "1:2.0", "a-b-c", "x:1.0-alt1", "< ", "1.0 alt1"])
def test_a_condition_that_is_no_version_is_refused(written: str) -> None:
    with pytest.raises(ValueError, match="checked version"):
        parse_condition(written, "x")


def _row(**changes: object) -> str:
    row: dict[str, object] = {
        "cve_id": "CVE-2099-0001",
        "pkg_name": "foo",
        "cc_checkdate": "2024-05-01 10:00:00",
        "cc_description": "fixed",
        "cc_description_ru": "",
        "cc_checked_ver.pkg_evr": ["1.0-alt1"],
        "cc_checked_ver.pkg_branch": ["p10"],
        "cc_status": "patched",
    }
    row.update(changes)
    return json.dumps(row)


def test_a_bad_row_is_reported_by_its_line_and_the_rest_loads() -> None:
    lines = [
        _row(),
        "{not json",
        _row(cc_status="fixed"),
        _row(**{"cc_checked_ver.pkg_branch": []}),
        _row(**{"cc_checked_ver.pkg_evr": ["1:2.0"]}),
        _row(cve_id="BDU:2024-00001"),
        "",
        _row(cc_checkdate="yesterday"),
        "[1, 2]",
        _row(pkg_name="bar"),
    ]
    checks, problems = _checks("\n".join(lines).encode())
    assert [c.pkg_name for c in checks] == ["foo", "bar"]
    assert [p.where for p in problems] == [f"x.json: line {n}" for n in (2, 3, 4, 5, 6, 8, 9)]
    assert "cc_status 'fixed' is none of patched, manually_excluded" in problems[1].message
    assert "has an epoch but no release" in problems[3].message


def test_a_line_is_one_row_whatever_its_text_holds() -> None:
    """JSON writes U+2028, U+0085 and the like inside a string as they are (``ensure_ascii``
    off, as in a Russian description); the row they are in is still one line: lines end
    at ``\n`` only (``str.splitlines`` cut such a row in two broken halves)."""
    odd = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\r"
    lines = [
        json.dumps(json.loads(_row(cc_description_ru=f"исправлено{ch}в 1.0")), ensure_ascii=False)
        for ch in odd
    ]
    checks, problems = _checks("\n".join(lines).encode())
    assert problems == []
    assert [c.description_ru for c in checks] == [f"исправлено{ch}в 1.0" for ch in odd]


def test_a_json_array_and_the_nested_form_read_too() -> None:
    nested = json.loads(_row())
    nested["cc_checked_ver"] = {"pkg_evr": ["*"], "pkg_branch": ["*"]}
    del nested["cc_checked_ver.pkg_evr"], nested["cc_checked_ver.pkg_branch"]
    checks, problems = _checks(json.dumps([json.loads(_row()), nested]).encode())
    assert problems == []
    assert [c.versions for c in checks] == [(("1.0-alt1", "p10"),), (("*", "*"),)]
