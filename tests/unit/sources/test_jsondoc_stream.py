"""A feed document read one member (and one array item) at a time reads as ``json.loads``
reads it whole; a document that breaks off gives what came before, then the error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from repotrack.errors import InputError
from repotrack.sources.vulns import VulnRecord
from repotrack.sources.vulns.jsondoc import iter_members
from repotrack.sources.vulns.nvd import parse_nvd
from tests.conftest import need_fixtures


def rebuilt(data: bytes) -> Any:
    """The document put back together from the stream."""
    out: dict[str, Any] = {}
    for key, value in iter_members(data, path="d.json", stream="items"):
        if key == "":
            return value
        if key == "items[]":
            out.setdefault("items", []).append(value)
        elif key == "items" and value == [] and "items" in out:
            continue  # the end of a streamed array
        else:
            out[key] = value
    return out


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "items": [{"x": [1, {"y": "]"}]}, 2, "s,\\"}"], "z": null}',
        ' \n{ "items" : [ ] , "b" : { "items": [3] } }\n ',
        '{"items": [1]}',
        "{}",
        "[1, 2]",
        '"text"',
        '{"items": {"not": "an array"}}',
        '\ufeff{"items": [1, 2]}',
    ],
)
def test_the_stream_reads_as_json_loads(text: str) -> None:
    data = text.encode()
    assert rebuilt(data) == json.loads(data)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b'{"items": [1, 2', "line 1 column 16"),
        (b'{"items": [1] "b": 2}', "line 1 column 15"),
        (b'{"a": 1} x', "line 1 column 9: Extra data"),
        (b"{1: 2}", "line 1 column 2"),
        (b'{"a": \xff}', None),
    ],
)
def test_broken_documents_are_input_errors_naming_the_file(data: bytes, where: str | None) -> None:
    with pytest.raises(InputError) as caught:
        list(iter_members(data, path="d.json", stream="items"))
    message = str(caught.value)
    assert message.startswith("d.json: ")
    assert ("not UTF-8" in message) if where is None else (where in message), message


def test_a_cut_feed_gives_its_whole_records_then_the_error() -> None:
    page = need_fixtures("cve", "nvd-2.0", "api-responses", "full-page.json").read_bytes()
    whole = [r for r in parse_nvd(page, path="p.json") if isinstance(r, VulnRecord)]
    cut = page[: len(page) * 2 // 3]
    got: list[VulnRecord] = []
    with pytest.raises(InputError, match=r"p\.json: malformed JSON"):
        for record in parse_nvd(cut, path="p.json"):
            assert isinstance(record, VulnRecord)
            got.append(record)
    assert 0 < len(got) < len(whole)
    assert got == whole[: len(got)]
