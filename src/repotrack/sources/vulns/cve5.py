"""CVE JSON 5.x records (cvelistV5 layout; reference/vuln-formats.md §2).

The product of an ``affected[]`` entry becomes a CPE 2.3 criteria: the entry's first
CPE 2.3 name when it gives one (version set to ``*``), else one built from ``vendor``
and ``product`` (lower case, spaces as ``_``). Ranges:

- ``{version, status: affected}`` alone: that one version;
- with ``lessThan`` / ``lessThanOrEqual``: [version, limit) / [version, limit], split at
  each ``changes[].at`` whose status turns the range off and on again (the changes
  sorted by version first, as the schema asks of readers);
- a product with ``defaultStatus: affected`` and no affected versions: every version;
- ``versionType: git`` entries name commits and are skipped;
- ``cna.cpeApplicability`` (newer records; the shape of NVD ``configurations``) adds
  its ranges exactly as the NVD reader takes them.

Bounds that are free text ("n/a", "unspecified", ``log4j-core*``) give ranges marked
``unknown``. ``state: REJECTED`` records are kept and marked rejected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Final

from repotrack.errors import InputError
from repotrack.rpm import version_key
from repotrack.sources.vulns.cpe import parse_cpe, quote_cpe_part
from repotrack.sources.vulns.jsondoc import load_json, need_dict, need_list, need_str
from repotrack.sources.vulns.nvd import affirmed_nodes, cpe_match_ranges
from repotrack.sources.vulns.records import (
    AffectedRange,
    RecordProblem,
    VulnRecord,
    parse_timestamp,
    raw_json,
)

__all__ = ["parse_cve5"]

SOURCE: Final = "cve5"
_METRIC_KEYS: Final = ("cvssV4_0", "cvssV3_1", "cvssV3_0", "cvssV2_0")


def parse_cve5(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """The one record of a CVE 5 file (a list of records is read as well)."""
    document = load_json(data, path=path)
    items = document if isinstance(document, list) else [document]
    for index, item in enumerate(items):
        where = path if len(items) == 1 else f"{path}: [{index}]"
        if not isinstance(item, dict) or item.get("dataType") != "CVE_RECORD":
            raise InputError("not a CVE JSON 5 record (dataType is not CVE_RECORD)", path=where)
        version = str(item.get("dataVersion", ""))
        if not version.startswith("5."):
            raise InputError(
                f"unknown CVE record dataVersion {version!r} (5.x is read)", path=where
            )
        try:
            yield _record(item)
        except (ValueError, TypeError) as exc:
            yield RecordProblem(where, str(exc))


def _record(item: dict[str, Any]) -> VulnRecord:
    meta = need_dict(item.get("cveMetadata"), "cveMetadata")
    cve_id = need_str(meta.get("cveId"), "cveMetadata.cveId")
    cna = need_dict(need_dict(item.get("containers"), "containers").get("cna"), "containers.cna")
    rejected = meta.get("state") == "REJECTED"
    published = meta.get("datePublished") or meta.get("dateRejected") or meta.get("dateReserved")
    score, severity = _score(need_list(cna.get("metrics"), "metrics"))
    texts = cna.get("rejectedReasons") if rejected else cna.get("descriptions")
    return VulnRecord(
        vuln_id=cve_id,
        source=SOURCE,
        summary=_english(need_list(texts, "descriptions")),
        published=parse_timestamp(published, name="cveMetadata.datePublished"),
        modified=parse_timestamp(meta.get("dateUpdated") or published, name="dateUpdated"),
        raw=raw_json(item),
        score=score,
        severity=severity,
        url=f"https://www.cve.org/CVERecord?id={cve_id}",
        rejected=rejected,
        references=tuple(
            ("web", str(ref["url"]))
            for ref in need_list(cna.get("references"), "references")
            if isinstance(ref, dict) and ref.get("url")
        ),
        ranges=() if rejected else _all_ranges(cna),
    )


def _all_ranges(cna: dict[str, Any]) -> tuple[AffectedRange, ...]:
    found = list(_affected(need_list(cna.get("affected"), "affected")))
    for config in need_list(cna.get("cpeApplicability"), "cpeApplicability"):
        for node in affirmed_nodes(need_dict(config, "cpeApplicability[]")):
            for match in need_list(node.get("cpeMatch"), "cpeMatch"):
                one = cpe_match_ranges(need_dict(match, "cpeMatch"))
                if one is not None:
                    found.append(one)
    return tuple(dict.fromkeys(found))


def _english(texts: list[Any]) -> str:
    english = [
        t["value"] for t in texts if isinstance(t, dict) and t.get("lang", "").startswith("en")
    ]
    other = [t.get("value", "") for t in texts if isinstance(t, dict)]
    return str((english or other or [""])[0])


def _score(metrics: list[Any]) -> tuple[float, str]:
    for key in _METRIC_KEYS:
        for metric in metrics:
            data = metric.get(key) if isinstance(metric, dict) else None
            if isinstance(data, dict):
                return float(data.get("baseScore", 0.0)), str(data.get("baseSeverity", ""))
    return 0.0, ""


def _affected(products: list[Any]) -> Iterator[AffectedRange]:
    for product in products:
        entry = need_dict(product, "affected[]")
        criteria = _criteria(entry)
        if criteria is None:
            continue
        versions = [
            need_dict(v, "versions[]") for v in need_list(entry.get("versions"), "versions")
        ]
        found = [r for v in versions for r in _version_ranges(criteria, v)]
        if entry.get("defaultStatus") == "affected":
            # Versions no entry lists are affected; the listed unaffected ones are kept
            # as not-affected statements, which outrank a range in the verdict.
            found = [AffectedRange(criteria), *(r for r in found if r.not_affected)]
        yield from found


def _criteria(entry: dict[str, Any]) -> str | None:
    for name in need_list(entry.get("cpes"), "cpes"):
        if isinstance(name, str) and name.startswith("cpe:2.3:"):
            cpe = parse_cpe(name)
            return (
                f"cpe:2.3:{cpe.part}:{quote_cpe_part(cpe.vendor)}:{quote_cpe_part(cpe.product)}"
                ":*:*:*:*:*:*:*:*"
            )
    vendor = entry.get("vendor") or ""
    product = entry.get("product") or entry.get("packageName") or ""
    if not isinstance(product, str) or not product or product.lower() == "n/a":
        return None
    known = isinstance(vendor, str) and vendor and vendor.lower() != "n/a"
    vendor_part = quote_cpe_part(vendor) if known else "*"
    return f"cpe:2.3:a:{vendor_part}:{quote_cpe_part(product)}:*:*:*:*:*:*:*:*"


def _version_ranges(criteria: str, version: dict[str, Any]) -> Iterator[AffectedRange]:
    if version.get("versionType") == "git":
        return  # commit ids, not versions
    start = str(version.get("version", ""))
    start = "" if start == "0" else start
    limit = version.get("lessThan") or version.get("lessThanOrEqual")
    status = version.get("status")
    if not limit:
        if status in _KEPT:
            yield _segment(criteria, status, start, start, end_excluded=False)
        return
    end, end_excluded = _limit(str(limit), inclusive="lessThan" not in version)
    # Walk the changes: each "at" switches the status from there on.
    current, segment_start = status, start
    changes = [need_dict(c, "changes[]") for c in need_list(version.get("changes"), "changes")]
    # The schema applies the changes in increasing order of ``at`` and tells readers to
    # sort them (a record need not list them sorted): rpm's order, the matcher's.
    changes.sort(key=lambda change: version_key(str(change.get("at", ""))))
    for change in changes:
        at = str(change.get("at", ""))
        if change.get("status") != current:
            if current in _KEPT:
                yield _segment(criteria, current, segment_start, at, end_excluded=True)
            segment_start = at
        current = change.get("status")
    if current in _KEPT:
        yield _segment(criteria, current, segment_start, end, end_excluded=end_excluded)


#: The statuses a version entry is kept for: affected ranges, and unaffected ones as
#: not-affected statements (with ``defaultStatus: affected`` they are all there is).
_KEPT: Final = ("affected", "unaffected")
_WILDCARD_END: Final = re.compile(r"^(.*?)(\d+)\.\*$")


def _segment(
    criteria: str, status: Any, start: str, end: str, *, end_excluded: bool
) -> AffectedRange:
    found = AffectedRange.checked(criteria, start=start, end=end, end_excluded=end_excluded)
    return replace(found, not_affected=True) if status == "unaffected" else found


def _limit(limit: str, *, inclusive: bool) -> tuple[str, bool]:
    """The end bound and whether it is excluded. A trailing ``*`` means "any later":
    ``5.15.*`` is everything below 5.16, any other (``*``, ``log4j-core*``) no bound."""
    wildcard = _WILDCARD_END.match(limit)
    if wildcard:
        return f"{wildcard.group(1)}{int(wildcard.group(2)) + 1}", True
    if limit.endswith("*"):
        return "", False
    return limit, not inclusive
