"""CVE 5 ``versions`` become ranges that give the status the CVE schema's algorithm gives.

The judge is the algorithm of the schema's version document (cve-schema,
"Version Status Decisions" and "Version Status Changes"), written out below, with every
comparison made by librpm: an entry that matches V (``version <= V <`` / ``<=`` its
limit, ``version: 0`` = no lower bound) gives its status, changed by each of its
``changes`` at or below V taken in increasing order (readers must sort them: records need
not list them sorted); a version no entry matches takes ``defaultStatus``. Random records
(one range entry with shuffled changes, every ``defaultStatus``) are parsed by
``parse_cve5``; a version is affected by the parsed ranges when an affected range holds
it and no not-affected statement does (the verdict rule that puts statements first).
"""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

from repotrack.sources.vulns import AffectedRange, VulnRecord
from repotrack.sources.vulns.cve5 import parse_cve5
from tests.unit.sources.librpm_ranges import LibrpmOrder

VERSIONS = ("0.9", "1.0", "1.0.1", "1.1", "1.2~rc1", "1.2", "1.10", "2.0", "2.0a", "3", "10.0")


def schema_status(v: str, product: dict[str, Any], rpm: LibrpmOrder) -> str:
    for entry in product["versions"]:
        start = entry["version"]
        limit = entry.get("lessThan") or entry.get("lessThanOrEqual")
        above_start = start == "0" or rpm.cmp(v, start) >= 0
        below_limit = rpm.cmp(v, limit) < 0 if "lessThan" in entry else rpm.cmp(v, limit) <= 0
        if above_start and below_limit:
            status = str(entry["status"])
            ordered = sorted(entry.get("changes", []), key=lambda c: VERSIONS.index(c["at"]))
            for change in ordered:  # VERSIONS is in librpm's order (checked below)
                if rpm.cmp(change["at"], v) <= 0:
                    status = change["status"]
            return status
    return str(product.get("defaultStatus", "unknown"))


def random_product(rng: random.Random) -> dict[str, Any]:
    low, high = sorted(rng.sample(range(len(VERSIONS)), 2))
    entry: dict[str, Any] = {
        "version": rng.choice(("0", VERSIONS[low])),
        "versionType": "custom",
        rng.choice(("lessThan", "lessThanOrEqual")): VERSIONS[high],
        "status": rng.choice(("affected", "unaffected")),
    }
    inside = list(range(low + 1, high + 1))
    if inside and rng.random() < 0.8:
        ats = rng.sample(inside, rng.randint(1, min(3, len(inside))))
        entry["changes"] = [
            {"at": VERSIONS[n], "status": rng.choice(("affected", "unaffected"))} for n in ats
        ]  # in random order
    product: dict[str, Any] = {"vendor": "acme", "product": "widget", "versions": [entry]}
    default = rng.choice((None, "unaffected", "affected", "unknown"))
    if default:
        product["defaultStatus"] = default
    return product


def parse(product: dict[str, Any]) -> tuple[AffectedRange, ...]:
    record = {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": "CVE-2030-0001", "state": "PUBLISHED",
                        "datePublished": "2024-01-01T00:00:00Z"},
        "containers": {"cna": {"descriptions": [{"lang": "en", "value": "x"}],
                               "affected": [product]}},
    }  # fmt: skip
    (parsed,) = parse_cve5(json.dumps(record).encode(), path="cve.json")
    assert isinstance(parsed, VulnRecord)
    return parsed.ranges


def test_versions_in_librpm_order() -> None:
    rpm = LibrpmOrder(VERSIONS)
    assert all(rpm.cmp(a, b) < 0 for a, b in itertools.pairwise(VERSIONS))


def test_ranges_give_the_schema_status() -> None:
    rpm = LibrpmOrder(VERSIONS)
    rng = random.Random(5)
    affected = 0
    for _ in range(300):
        product = random_product(rng)
        ranges = parse(product)
        for v in VERSIONS:
            expected = schema_status(v, product, rpm) == "affected"
            in_affected = any(rpm.holds(v, r) for r in ranges if not r.not_affected)
            in_statement = any(rpm.holds(v, r) for r in ranges if r.not_affected)
            assert (in_affected and not in_statement) == expected, (product, v, ranges)
            affected += expected
    assert 0.2 < affected / (300 * len(VERSIONS)) < 0.8


def test_changes_listed_out_of_order_are_sorted() -> None:
    product = {
        "vendor": "acme",
        "product": "widget",
        "versions": [{"version": "1.0", "versionType": "semver", "lessThan": "3",
                      "status": "affected",
                      "changes": [{"at": "2.0", "status": "affected"},
                                  {"at": "1.1", "status": "unaffected"}]}],
    }  # fmt: skip
    spans = [(r.start, r.end, r.not_affected) for r in parse(product)]
    assert spans == [("1.0", "1.1", False), ("1.1", "2.0", True), ("2.0", "3", False)]
