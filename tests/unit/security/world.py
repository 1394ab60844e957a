"""A small hand-checked world: one branch of source packages, mappings and NVD records.

Expected verdicts (checked by hand against the records in ../shared/fixtures/cve):

| package | version | CVE | range | verdict |
|---|---|---|---|---|
| mc | 4.8.21 | CVE-2021-36370 | (, 4.8.26] | vulnerable (range) |
| squid | 6.10 | CVE-2025-62168 | (, 7.2) | fixed (changelog names the CVE) |
| libXpm | 3.5.13 | CVE-2022-46285 | (, 3.5.15) | fixed (patch file name) |
| ngircd | 26.1 | CVE-2020-14148 | (, 25.0], [26.0, 26.0] | fixed (newer version) |
| samba | 4.2.0 | CVE-2022-32746 | [4.3.0, 4.14.14) ... | not_affected (before range) |
| apparmor | 2.10 | CVE-2017-6507 | (, 2.11] | not_affected (triage) |
| xz | 5.6.1 | CVE-2024-3094 | [5.6.1, 5.6.1] | vulnerable (range) |
| tukit | 1.a | CVE-2099-0001 | (, 1.1] | vulnerable (rpm order), fixed (ALT order) |
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from repotrack.ingest.vulns import load_vulns
from repotrack.rpm import changelog_hash
from repotrack.security import record_triage, set_mapping
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.store.rows import load_branch_snapshot, package

BRANCH = "p10"
DAY = datetime(2025, 11, 1, tzinfo=UTC)
RECORDS = (
    "CVE-2021-36370",
    "CVE-2025-62168",
    "CVE-2022-46285",
    "CVE-2020-14148",
    "CVE-2022-32746",
    "CVE-2017-6507",
    "CVE-2024-3094",
)
SQUID_FIX = "- 6.10-alt2: fix CVE-2025-62168 (backport of upstream 0a1b2c)."

PACKAGES = [  # (pkg_hash, name, version, cpe)
    (101, "mc", "4.8.21", "cpe:2.3:a:midnight-commander:midnight_commander:*:*:*:*:*:*:*:*"),
    (102, "squid", "6.10", "cpe:2.3:a:squid-cache:squid:*:*:*:*:*:*:*:*"),
    (103, "libXpm", "3.5.13", "cpe:2.3:a:x.org:libxpm:*:*:*:*:*:*:*:*"),
    (104, "ngircd", "26.1", "cpe:2.3:a:barton:ngircd:*:*:*:*:*:*:*:*"),
    (105, "samba", "4.2.0", "cpe:2.3:a:samba:samba:*:*:*:*:*:*:*:*"),
    (106, "apparmor", "2.10", "cpe:2.3:a:apparmor:apparmor:*:*:*:*:*:*:*:*"),
    (107, "xz", "5.6.1", "cpe:2.3:a:tukaani:xz:*:*:*:*:*:*:*:*"),
    (108, "tukit", "1.a", "cpe:2.3:a:example:tukit:*:*:*:*:*:*:*:*"),
]

SYNTHETIC = {
    "id": "CVE-2099-0001",
    "published": "2099-01-01T00:00:00.000",
    "lastModified": "2099-01-02T00:00:00.000",
    "vulnStatus": "Analyzed",
    "descriptions": [{"lang": "en", "value": "tukit up to 1.1 (a made-up record)."}],
    "references": [],
    "configurations": [
        {
            "nodes": [
                {
                    "operator": "OR",
                    "negate": False,
                    "cpeMatch": [
                        {
                            "vulnerable": True,
                            "criteria": "cpe:2.3:a:example:tukit:*:*:*:*:*:*:*:*",
                            "versionEndIncluding": "1.1",
                            "matchCriteriaId": "00000000-0000-0000-0000-000000000001",
                        }
                    ],
                }
            ]
        }
    ],
}


def nvd_files(tmp: Path) -> list[Path]:
    records = need_fixtures("cve", "nvd-2.0", "records")
    synthetic = tmp / "CVE-2099-0001.json"
    synthetic.write_text(json.dumps(SYNTHETIC))
    return [records / f"{name}.json" for name in RECORDS] + [synthetic]


def build_world(store: Store, tmp: Path) -> None:
    sources: list[tuple[Any, ...]] = []
    for pkg_hash, name, version, _ in PACKAGES:
        changelog = []
        if name == "squid":
            changelog = [
                (DAY, "Maintainer <m@example.org>", "6.10-alt2", changelog_hash(SQUID_FIX))
            ]
        sources.append(package(pkg_hash, name, version, source=True, changelog=changelog))
    store.insert(
        "Changelog_buffer", ("chlog_hash", "chlog_text"), [(changelog_hash(SQUID_FIX), SQUID_FIX)]
    )
    store.insert(
        "Specfiles_buffer",
        ("pkg_hash", "pkg_name", "pkg_epoch", "pkg_version", "pkg_release", "specfile_name",
         "specfile_date", "specfile_content"),
        [(103, "libXpm", 0, "3.5.13", "alt1", "libXpm.spec", DAY,
          "Name: libXpm\nVersion: 3.5.13\nPatch0: libXpm-alt-build.patch\n"
          "Patch1: libXpm-CVE-2022-46285-infinite-loop.patch\n")],
    )  # fmt: skip
    load_branch_snapshot(store, BRANCH, DAY, sources, [])
    for _, name, _, cpe in PACKAGES:
        set_mapping(store, pkg_name=name, result=cpe, user="tester", reason="test world")
    summary = load_vulns(store, source="nvd", paths=nvd_files(tmp))
    assert summary.problems == [] and summary.written == len(RECORDS) + 1
    record_triage(
        store,
        vuln_id="CVE-2017-6507",
        pkg_name="apparmor",
        branch=BRANCH,
        status="not_affected",
        author="tester",
        reason="profiles are not shipped",
    )


def verdicts(store: Store, branch: str = BRANCH) -> dict[tuple[str, str], tuple[str, str]]:
    rows = store.query(
        "SELECT pkg_name, vuln_id, argMax(pvv_status, ts), argMax(pvv_reason, ts) "
        "FROM PackagesVulnerabilityVerdict WHERE pkgset_name = {b:String} "
        "GROUP BY pkg_name, vuln_id",
        {"b": branch},
    )
    return {(n, v): (str(s), str(r)) for n, v, s, r in rows}


def deletes_applied(store: Store) -> None:
    """Wait until the store's deletes are applied (bounded: one that never is fails).

    A rematch deletes outdated status rows without waiting on the embedded store (no
    other process reads it; a ClickHouse server's delete is waited for), so a test that
    reads every row, as the ALTRepo API does, waits for them first.
    """
    deadline = time.monotonic() + 60
    while store.query("SELECT count() FROM system.mutations WHERE NOT is_done") != [(0,)]:
        assert time.monotonic() < deadline, "the store's deletes were not applied in 60 s"
        time.sleep(0.05)


def squid_names_a_second_cve(store: Store) -> None:
    """The next day's snapshot: squid's build (a new one, 202) whose newest changelog
    entry names CVE-2025-62168 and CVE-2025-99999, so its erratum gets a new version."""
    text = "- fix CVE-2025-62168 and CVE-2025-99999."
    store.insert("Changelog_buffer", ("chlog_hash", "chlog_text"), [(changelog_hash(text), text)])
    later = DAY + timedelta(days=1)
    squid = package(
        202, "squid", "6.10", source=True,
        changelog=[(later, "M <m@example.org>", "6.10-alt1", changelog_hash(text))],
    )  # fmt: skip
    load_branch_snapshot(store, BRANCH, later, [squid], [])
