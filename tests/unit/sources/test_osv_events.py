"""OSV events become the ranges the OSV schema's own evaluation gives.

The judge is the schema's ``IsVulnerable`` pseudocode (docs/schema.md, "Evaluation"),
written out below as it stands, with every version comparison made by librpm
(``rpm.labelCompare``): events sorted by version, a later ``introduced`` inside an open
range changing nothing, ``limit`` bounding the range. Random event lists (shuffled, with
overlapping ``introduced``, ``last_affected``, ``limit``, ``introduced: 0``) are parsed by
``parse_osv``; for each version of a pool, "in one of the parsed ranges" (again by
librpm) must equal the pseudocode's answer.
"""

from __future__ import annotations

import functools
import json
import random
from typing import Any

import pytest

from repotrack.sources.vulns import AffectedRange, VulnRecord
from repotrack.sources.vulns.osv import parse_osv
from tests.unit.sources.librpm_ranges import LibrpmOrder

VERSIONS = ("0.9", "1.0", "1.0.1", "1.1", "1.2~rc1", "1.2", "1.10", "2.0", "2.0a", "3", "10.0")
EVRS = ("1.0-1", "1.0-2", "1:0.5-1", "1.1-1.el8", "1.1-1.el8_6", "2.0-1", "0:2.0-3", "2.0~rc1-1")


def is_vulnerable(v: str, events: list[dict[str, str]], rpm: LibrpmOrder) -> bool:
    """The schema's IncludedInRanges for one range, line by line."""
    limits = [e["limit"] for e in events if "limit" in e]
    if limits and not any(limit == "*" or rpm.cmp(v, limit) < 0 for limit in limits):
        return False  # BeforeLimits
    vulnerable = False

    def order(a: dict[str, str], b: dict[str, str]) -> int:
        # The schema leaves the order of events of equal versions open; both sides here
        # put an ``introduced`` first (``introduced: X, fixed: X`` affects nothing).
        (x,), (y,) = a.values(), b.values()
        if "introduced" in a and x == "0":
            return -1
        if "introduced" in b and y == "0":
            return 1
        return rpm.cmp(x, y) or ("introduced" not in a) - ("introduced" not in b)

    for evt in sorted((e for e in events if "limit" not in e), key=functools.cmp_to_key(order)):
        if "introduced" in evt and (evt["introduced"] == "0" or rpm.cmp(v, evt["introduced"]) >= 0):
            vulnerable = True
        elif "fixed" in evt and rpm.cmp(v, evt["fixed"]) >= 0:  # noqa: SIM114 (as the schema)
            vulnerable = False
        elif "last_affected" in evt and rpm.cmp(v, evt["last_affected"]) > 0:
            vulnerable = False
    return vulnerable


def random_events(rng: random.Random, pool: tuple[str, ...]) -> list[dict[str, str]]:
    closing = rng.choice(("fixed", "last_affected"))  # one kind per range (schema rule)
    events = [{"introduced": rng.choice(("0", *pool))}]
    for _ in range(rng.randint(0, 4)):
        kind = rng.choice(("introduced", closing, closing, "limit"))
        events.append({kind: rng.choice(pool)})
    rng.shuffle(events)
    return events


def parse(events: list[dict[str, str]]) -> tuple[AffectedRange, ...]:
    record = {
        "schema_version": "1.6.0",
        "id": "TEST-1",
        "modified": "2024-01-01T00:00:00Z",
        "affected": [
            {"package": {"ecosystem": "Test", "name": "p"},
             "ranges": [{"type": "ECOSYSTEM", "events": events}]}
        ],
    }  # fmt: skip
    (parsed,) = parse_osv(json.dumps(record).encode(), path="test.json")
    assert isinstance(parsed, VulnRecord)
    return parsed.ranges


@pytest.mark.parametrize(
    ("pool", "evr"), [(VERSIONS, False), (EVRS, True)], ids=["versions", "evr"]
)
def test_ranges_agree_with_the_schema_evaluation(pool: tuple[str, ...], evr: bool) -> None:
    rpm = LibrpmOrder(pool, evr=evr)
    rng = random.Random(7)
    checked: list[Any] = []
    for _ in range(300):
        events = random_events(rng, pool)
        ranges = parse(events)
        for v in pool:
            expected = is_vulnerable(v, events, rpm)
            assert any(rpm.holds(v, r) for r in ranges) == expected, (events, v, ranges)
            checked.append(expected)
    assert 0.2 < sum(checked) / len(checked) < 0.8  # both answers are common


def test_a_second_introduced_inside_a_range_changes_nothing() -> None:
    (found,) = parse([{"introduced": "1.0"}, {"introduced": "2.0"}, {"fixed": "3.0"}])
    assert (found.start, found.end, found.end_excluded) == ("1.0", "3.0", True)


def test_events_out_of_order_are_sorted() -> None:
    (found,) = parse([{"fixed": "1.5"}, {"introduced": "0"}])
    assert (found.start, found.end) == ("", "1.5")


def test_limit_bounds_an_open_range() -> None:
    (found,) = parse([{"introduced": "1.0"}, {"limit": "2.0"}])
    assert (found.start, found.end, found.end_excluded) == ("1.0", "2.0", True)
    (found,) = parse([{"introduced": "1.0"}, {"limit": "*"}])
    assert (found.start, found.end) == ("1.0", "")
