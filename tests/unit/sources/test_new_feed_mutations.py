"""Wrong types anywhere in the real AlmaLinux errata, Red Hat API and ALT CveChecked
documents: each mutated document reads as records and problems, or as one ``InputError``
for the whole file, never another exception (every value of the first records of each
fixture is replaced, in turn, by null, a number, text, a list and an object)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from repotrack.errors import InputError
from repotrack.sources.vulns import PARSERS
from repotrack.sources.vulns.cve_checked import parse_cve_checked
from tests.conftest import need_fixtures

WRONG: tuple[Any, ...] = (None, 7, "x", [], {})


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            yield from _paths(item, (*path, index))


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def _mutations(document: Any) -> Iterator[Any]:
    for path in _paths(document):
        for value in WRONG:
            yield _replaced(document, path, value)


def _read(parse: Any, data: bytes) -> None:
    with contextlib.suppress(InputError):
        list(parse(data, path="mutated"))


@pytest.mark.parametrize(
    ("source", "parts"),
    [
        ("almalinux", ("cve", "almalinux", "errata.json")),
        ("redhat", ("cve", "redhat", "security-data-api", "CVE-2023-4863.json")),
    ],
)
def test_json_feeds(source: str, parts: tuple[str, ...]) -> None:
    document = json.loads(need_fixtures(*parts).read_text())
    if isinstance(document, list):
        document = document[-1:]  # the module advisory: every shape of the file
    count = 0
    for mutated in _mutations(document):
        _read(PARSERS[source], json.dumps(mutated).encode())
        count += 1
    assert count > 200


def test_cve_checked_rows() -> None:
    lines = need_fixtures("cve", "alt", "CveChecked-initial.json").read_text().splitlines()
    for line in lines[:3]:
        for mutated in _mutations(json.loads(line)):
            _read(parse_cve_checked, json.dumps(mutated).encode())
