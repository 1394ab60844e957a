"""Vulnerability feed load throughput as a user sees it, beside reading the same feed.

    uv run python benchmarks/vuln_load.py [--records 40000] [--per-page 2000] [--runs 3]

The feed is NVD CVE API 2.0 pages (``--per-page`` records each, the API's maximum
being 2000), generated in the shape of real NVD records: English and Spanish
descriptions, a CVSS 3.1 metric, a CWE, references, and configurations of one or two
nodes holding 1-8 CPE match criteria (open start and ``versionEndExcluding``, a start
and an end, exact versions, ``*`` for every version; a tenth of the criteria are
``vulnerable: false`` platforms, and one record in fifty is rejected).

Every figure is a whole process, timed from start to exit (interpreter start, imports,
store open and close), CPU being user + system of the process and its descendants:

- the baseline: one Python process that reads every page with the standard library's
  ``json`` and walks every record's CPE criteria, the least any Python loader of this
  feed does;
- ``repotrack load vulns nvd DIR`` into a fresh embedded store whose schema was made
  beforehand (untimed): every record is new;
- the same command again: every record is already stored, nothing is written;
- the same command after ``--changed`` records got a new ``lastModified`` and a new
  version bound (the daily case: NVD's ``lastModStartDate`` pages hold the records
  changed since).

After the first load the stored counts are checked against the generator's:
``Vulnerabilities`` holds one current row per record and ``CpeMatch`` one row per
distinct vulnerable criterion of its record (with its bounds); a load that stored
another number stops the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from whole_process import fresh_store, repotrack_command, stored_number, timed

#: Current vulnerabilities, and the ranges of their current records.
COUNTS = (
    "SELECT (SELECT uniqExact(vuln_id) FROM Vulnerabilities), (SELECT count() FROM CpeMatch "
    "WHERE (vuln_id, vuln_hash) IN (SELECT vuln_id, argMax(vuln_hash, ts) FROM Vulnerabilities "
    "GROUP BY vuln_id))"
)

#: Products drawn with a skew (a few with many records, most with a few).
PRODUCTS = 4000
CWES = ("CWE-79", "CWE-787", "CWE-89", "CWE-416", "CWE-20", "CWE-125", "CWE-22", "CWE-352")

BASELINE = """
import json, sys
from pathlib import Path
records = criteria = 0
for page in sorted(Path(sys.argv[1]).glob("*.json")):
    data = json.loads(page.read_bytes())
    for item in data["vulnerabilities"]:
        records += 1
        for config in item["cve"].get("configurations", []):
            for node in config["nodes"]:
                criteria += len(node["cpeMatch"])
print(records, criteria)
"""


def version(rng: random.Random) -> str:
    return f"{rng.randint(0, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"


def criterion(rng: random.Random, product: int, *, vulnerable: bool) -> dict[str, Any]:
    vendor = f"vendor{product % 997}"
    shape = rng.random()
    exact = version(rng) if shape < 0.25 else "*"
    found: dict[str, Any] = {
        "vulnerable": vulnerable,
        "criteria": f"cpe:2.3:a:{vendor}:product{product}:{exact}:*:*:*:*:*:*:*",
        "matchCriteriaId": f"{rng.getrandbits(128):032X}",
    }
    if 0.25 <= shape < 0.65:
        found["versionEndExcluding"] = version(rng)
    elif 0.65 <= shape < 0.9:
        major, minor = rng.randint(0, 12), rng.randint(0, 30)
        found["versionStartIncluding"] = f"{major}.{minor}.0"
        found["versionEndExcluding"] = f"{major}.{minor}.{rng.randint(1, 20)}"
    return found


def record(rng: random.Random, number: int, modified: str) -> tuple[dict[str, Any], int]:
    """One NVD 2.0 ``vulnerabilities[]`` item and how many ``CpeMatch`` rows a load must
    store for it: its distinct vulnerable criteria with their bounds (an exact version
    is the range [version, version]; a rejected record has none)."""
    cve_id = f"CVE-{2015 + number % 11}-{100000 + number}"
    product = min(int(rng.paretovariate(1.2)), PRODUCTS) + number % 7
    nodes = []
    ranges: set[tuple[str, str, str]] = set()  # a record's ranges, each stored once
    for _ in range(1 if rng.random() < 0.8 else 2):
        matches = []
        for _ in range(rng.randint(1, 8)):
            found = criterion(rng, product, vulnerable=rng.random() >= 0.1)
            matches.append(found)
            if found["vulnerable"]:
                exact = found["criteria"].split(":")[5]
                start = found.get("versionStartIncluding", "" if exact == "*" else exact)
                end = found.get("versionEndExcluding", "" if exact == "*" else exact)
                ranges.add((found["criteria"], start, end))
        nodes.append({"operator": "OR", "negate": False, "cpeMatch": matches})
    rejected = rng.random() < 0.02
    score = round(rng.uniform(2, 10), 1)
    cve: dict[str, Any] = {
        "id": cve_id,
        "sourceIdentifier": "secalert@example.org",
        "published": "2024-03-01T12:00:00.000",
        "lastModified": modified,
        "vulnStatus": "Rejected" if rejected else "Analyzed",
        "descriptions": [
            {
                "lang": "en",
                "value": f"A flaw in product{product} before {version(rng)} "
                "allows a remote attacker to cause a denial of service or execute code "
                "via a crafted request to the parsing of untrusted input.",
            },
            {
                "lang": "es",
                "value": f"Una falla en product{product} permite a un atacante "
                "remoto provocar una denegación de servicio mediante una solicitud manipulada.",
            },
        ],
        "metrics": {
            "cvssMetricV31": [
                {
                    "source": "nvd@nist.gov",
                    "type": "Primary",
                    "cvssData": {
                        "version": "3.1",
                        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                        "attackVector": "NETWORK",
                        "baseScore": score,
                        "baseSeverity": "HIGH" if score >= 7 else "MEDIUM",
                    },
                    "exploitabilityScore": 3.9,
                    "impactScore": 5.9,
                }
            ]
        },
        "weaknesses": [
            {
                "source": "nvd@nist.gov",
                "type": "Primary",
                "description": [{"lang": "en", "value": rng.choice(CWES)}],
            }
        ],
        "configurations": [] if rejected else [{"nodes": nodes}],
        "references": [
            {
                "url": f"https://example.org/advisories/{cve_id}/{n}",
                "source": "nvd@nist.gov",
                "tags": ["Third Party Advisory"],
            }
            for n in range(rng.randint(2, 6))
        ],
    }
    return {"cve": cve}, 0 if rejected else len(ranges)


def write_feed(out: Path, records: int, per_page: int, *, changed: int = 0, seed: int = 7) -> int:
    """Write the pages; return the vulnerable criteria in all. With ``changed``, the
    first ``changed`` records carry a later ``lastModified`` and other bounds."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    criteria = 0
    for start in range(0, records, per_page):
        items = []
        for number in range(start, min(start + per_page, records)):
            # drawn for every record, so that the unchanged ones are the same in both
            item, count = record(rng, number, "2024-03-02T12:00:00.000")
            if number < changed:
                item_rng = random.Random(seed * 1_000_003 + number + 1)
                item, count = record(item_rng, number, "2025-06-01T08:00:00.000")
            items.append(item)
            criteria += count
        page = {
            "resultsPerPage": len(items),
            "startIndex": start,
            "totalResults": records,
            "format": "NVD_CVE",
            "version": "2.0",
            "timestamp": "2025-06-01T09:00:00.000",
            "vulnerabilities": items,
        }
        (out / f"page-{start // per_page:05d}.json").write_text(json.dumps(page))
    return criteria


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=40_000)
    parser.add_argument("--per-page", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-vulns-"))
    try:
        feed, daily = work / "feed", work / "daily"
        criteria = write_feed(feed, args.records, args.per_page)
        write_feed(daily, args.records, args.per_page, changed=args.changed)
        size = sum(p.stat().st_size for p in feed.iterdir()) / 2**20
        print(
            f"feed: {args.records} NVD 2.0 records in pages of {args.per_page} ({size:.0f} MiB), "
            f"{criteria} distinct affected ranges; {os.cpu_count()} CPUs"
        )
        print("every time is a whole process (start to exit); cpu = user + system")
        command = [repotrack_command(), "load", "vulns", "nvd"]
        for run in range(1, args.runs + 1):
            base = timed([sys.executable, "-c", BASELINE, str(feed)])
            home = work / f"home-{run}"
            env = fresh_store(home)
            first = timed([*command, str(feed)], env)
            vulns, ranges = stored_number(env, COUNTS)
            if (vulns, ranges) != (args.records, criteria):
                sys.exit(
                    f"stored {vulns} vulnerabilities and {ranges} ranges, generated "
                    f"{args.records} and {criteria}"
                )
            again = timed([*command, str(feed)], env)
            changed = timed([*command, str(daily)], env)
            shutil.rmtree(home, ignore_errors=True)
            load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
            print(f"run {run} (machine load average {load}):")
            print(f"  json baseline  {base[0]:6.2f} s wall {base[1]:6.2f} s cpu")
            print(
                f"  first load     {first[0]:6.2f} s wall {first[1]:6.2f} s cpu  "
                f"{args.records / first[0]:7.0f} records/s {criteria / first[0]:8.0f} ranges/s"
                f"   / baseline: {first[0] / base[0]:.2f}x wall"
            )
            print(f"    {first[2]}")
            print(
                f"  again          {again[0]:6.2f} s wall {again[1]:6.2f} s cpu  "
                f"/ first load: {again[0] / first[0]:.1%}"
            )
            print(f"    {again[2]}")
            print(
                f"  {args.changed} changed   {changed[0]:6.2f} s wall {changed[1]:6.2f} s cpu  "
                f"/ first load: {changed[0] / first[0]:.1%}"
            )
            print(f"    {changed[2]}")
            print(f"  stored: {vulns} vulnerabilities, {ranges} ranges (as generated)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
