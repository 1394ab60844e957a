"""AlmaLinux's errata JSON (errata.almalinux.org; reference/vuln-formats.md §8).

AlmaLinux publishes its advisories twice: as OSV records and as the errata JSON its
errata site is built from (``errata.full.json``; a MongoDB export of the same
documents is what vuln-list-update keeps). The OSV records write fixed versions without
the package's epoch (§9: read as epoch 0, every build of an epoch-1 package looked
fixed, which the matcher now works around); the errata JSON lists every fixed build
with its epoch, version, release and source RPM:

    {"updateinfo_id": "ALSA-2021:3253", "type": "security", "severity": "Important",
     "title": "...", "issued_date": {"$date": 1629790196000}, "updated_date": {...},
     "references": [{"type": "cve", "id": "CVE-2021-3246", "href": "..."}],
     "pkglist": {"name": "almalinux-8-for-x86_64-appstream-rpms__8_0_default",
                 "packages": [{"name": "libsndfile", "epoch": "0", "version": "1.0.28",
                               "release": "10.el8_4.1", "arch": "x86_64",
                               "src": "libsndfile-1.0.28-10.el8_4.1.src.rpm"}]}}

One record per advisory, with the id the OSV record has, so the two name the same
advisory (this one is the stronger source: ``ingest.vulns.SOURCE_RANK``). Its ranges are
OSV-style, in the stream ``AlmaLinux:<major>`` (the number after ``__`` in the
repository name), one per package name, binary and source (from ``src``): affected below
the fixed ``epoch:version-release``, the epoch always written. A module advisory can
list a package at several module builds (``8.module_el8.4.0+2523…`` and
``8.module_el8.3.0+2048…``, one per context); the lowest of them is the fix, so that a
build of the older context is not taken for one below the newer fix (§9: module
releases do not compare across streams). Dates are ``{"$date": epoch ms}``, epoch
seconds or ISO text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final

from repotrack.sources.vulns.fixed_builds import FixedBuild, fixed_ranges, source_build
from repotrack.sources.vulns.jsondoc import load_json, need_dict, need_list, need_str
from repotrack.sources.vulns.records import (
    AffectedRange,
    RecordProblem,
    VulnRecord,
    epoch_time,
    keyed,
    raw_json,
    read_each,
    store_time,
)

__all__ = ["parse_almalinux_errata"]

#: ``<repository>__<major>_<minor>_<module or default>``
_STREAM: Final = re.compile(r"__(\d+)(?:_|$)")


def parse_almalinux_errata(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """The advisories of one errata JSON file: a list of errata, ``{"data": [...]}``, or
    one erratum."""
    document = load_json(data, path=path)
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        document = document["data"]
    items = document if isinstance(document, list) else [document]
    yield from read_each(
        items,
        path,
        _record,
        check=keyed("updateinfo_id", "AlmaLinux errata JSON"),
        label="updateinfo_id",
    )


def _record(item: dict[str, Any]) -> VulnRecord:
    advisory = need_str(item.get("updateinfo_id"), "updateinfo_id")
    pkglist = need_dict(item.get("pkglist"), "pkglist")
    repository = need_str(pkglist.get("name"), "pkglist.name")
    found = _STREAM.search(repository)
    if found is None:
        raise ValueError(f"pkglist.name {repository!r} names no release (<repo>__<major>_...)")
    major = found[1]
    references: list[tuple[str, str]] = []
    for reference in need_list(item.get("references"), "references"):
        ref = need_dict(reference, "references[]")
        if str(ref.get("type", "")).lower() == "cve" and str(ref.get("id", "")).startswith("CVE-"):
            references.append(("CVE", str(ref["id"])))
        elif ref.get("href"):
            references.append(("web", str(ref["href"])))
    issued = _date(item.get("issued_date"), "issued_date")
    slug = advisory.replace(":", "-")
    return VulnRecord(
        vuln_id=advisory,
        source="almalinux",
        summary=str(item.get("title") or item.get("summary") or ""),
        published=issued,
        modified=_date(item.get("updated_date"), "updated_date") if item.get("updated_date")
        else issued,
        raw=raw_json({k: v for k, v in item.items() if k not in ("_id", "bs_repo_id")}),
        severity=str(item.get("severity") or ""),
        url=f"https://errata.almalinux.org/{major}/{slug}.html",
        references=tuple(dict.fromkeys(references)),
        ranges=tuple(_ranges(f"AlmaLinux:{major}", need_list(pkglist.get("packages"), "packages"))),
    )  # fmt: skip


def _ranges(stream: str, packages: list[Any]) -> Iterator[AffectedRange]:
    """Per package name (binary, and source from ``src``), affected below its lowest fixed
    build of the advisory."""
    builds: list[FixedBuild] = []
    for entry in packages:
        package = need_dict(entry, "packages[]")
        epoch = str(package.get("epoch") or "0")
        builds.append(
            (
                need_str(package.get("name"), "packages[].name"),
                epoch,
                need_str(package.get("version"), "packages[].version"),
                need_str(package.get("release"), "packages[].release"),
            )
        )
        source = source_build(str(package.get("src") or ""), epoch)
        if source is not None:
            builds.append(source)
    return fixed_ranges(stream, builds)


def _date(value: Any, name: str) -> datetime:
    """``{"$date": epoch ms}`` (MongoDB export; ``{"$date": {"$numberLong": "…"}}`` in its
    canonical form), epoch seconds, or ISO 8601 text."""
    if isinstance(value, dict):
        value = value.get("$date")
        if isinstance(value, dict) and str(value.get("$numberLong", "")).isdigit():
            value = int(value["$numberLong"])
        if isinstance(value, int | float):
            return epoch_time(value / 1000)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch_time(value)
    if isinstance(value, str) and value.strip():
        return store_time(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    raise ValueError(f"{name} is missing or not a date")
