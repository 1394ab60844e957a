"""NVD CVE API 2.0 responses and feed files (reference/vuln-formats.md §1).

Accepted shapes: an API page or ``nvdcve-2.0-*.json`` feed file (``vulnerabilities[]``
of ``{"cve": ...}``), one ``{"cve": ...}`` item, or a bare ``cve`` object. Unknown
keys are ignored (newer records add ``affected`` and ``ssvcV203``).

Ranges: every ``cpeMatch`` with ``vulnerable: true`` whose CPE is an application
(``cpe:2.3:a:``) or the Linux kernel, as ALTRepo keeps them; ``vulnerable: false``
entries are platforms, never affected products, and so are the entries of a node (or
configuration) with ``negate: true``, which says what is *not* affected. A criteria
with a concrete version and no bounds is the range [version, version]; version ``-``
("not applicable") keeps ``-`` as both bounds, which the matcher never matches with a
versioned package.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from repotrack.sources.vulns.cpe import parse_cpe
from repotrack.sources.vulns.jsondoc import iter_members, need_dict, need_list, need_str
from repotrack.sources.vulns.records import (
    AffectedRange,
    RecordProblem,
    VulnRecord,
    parse_timestamp,
    raw_json,
)

__all__ = ["affirmed_nodes", "cpe_match_ranges", "parse_nvd"]

SOURCE: Final = "nvd"
_METRICS: Final = ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2")
_KERNEL: Final = ("linux", "linux_kernel")


def parse_nvd(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """The records of one NVD 2.0 document, a ``RecordProblem`` for each unreadable one.

    A page or feed file is read one record at a time (``iter_members``): a yearly feed
    is hundreds of megabytes. A document that breaks off raises its ``InputError`` after
    the records before the break."""
    members: dict[str, Any] = {}
    index = 0
    for key, value in iter_members(data, path=path, stream="vulnerabilities"):
        if key != "vulnerabilities[]":
            members[key] = value
            continue
        if index == 0:
            _check_version(members, path=path)
        yield _item(value, where=f"{path}: vulnerabilities[{index}]")
        index += 1
    if index:
        _check_version(members, path=path)  # a version written after the records
        return
    for item in _items(members.get("", members), path=path):
        yield _item(item, where=f"{path}: vulnerabilities[{index}]")
        index += 1


def _item(item: Any, *, where: str) -> VulnRecord | RecordProblem:
    try:
        cve = need_dict(item.get("cve", item) if isinstance(item, dict) else item, "cve")
        return _record(cve)
    except (ValueError, TypeError) as exc:
        cve_id = item.get("cve", item).get("id") if isinstance(item, dict) else None
        return RecordProblem(f"{where} ({cve_id})" if cve_id else where, str(exc))


def _check_version(members: dict[str, Any], *, path: str) -> None:
    from repotrack.errors import InputError

    version = str(members.get("version", "2.0"))
    if not version.startswith("2."):
        raise InputError(f"unknown NVD schema version {version!r} (2.x is read)", path=path)


def _items(document: Any, *, path: str) -> list[Any]:
    from repotrack.errors import InputError

    if not isinstance(document, dict):
        raise InputError("an NVD document is a JSON object", path=path)
    if "vulnerabilities" in document:
        _check_version(document, path=path)
        items = document["vulnerabilities"]
        if not isinstance(items, list):
            raise InputError("vulnerabilities is not a list", path=path)
        return items
    if "CVE_Items" in document:
        raise InputError("NVD 1.1 feeds are retired; use the 2.0 feed or API", path=path)
    if "cve" in document or "id" in document:
        return [document]
    raise InputError("neither an NVD 2.0 page nor a CVE record", path=path)


def _record(cve: dict[str, Any]) -> VulnRecord:
    cve_id = need_str(cve.get("id"), "id")
    score, severity = _score(need_dict(cve.get("metrics") or {}, "metrics"))
    return VulnRecord(
        vuln_id=cve_id,
        source=SOURCE,
        summary=_english(need_list(cve.get("descriptions"), "descriptions")),
        published=parse_timestamp(cve.get("published"), name="published"),
        modified=parse_timestamp(cve.get("lastModified"), name="lastModified"),
        raw=raw_json(cve),
        score=score,
        severity=severity,
        url=f"https://nvd.nist.gov/vuln/detail/{cve_id}",
        rejected=cve.get("vulnStatus") == "Rejected",
        references=tuple(
            ("web", need_str(ref.get("url"), "references[].url"))
            for ref in need_list(cve.get("references"), "references")
            if isinstance(ref, dict)
        ),
        ranges=tuple(_ranges(need_list(cve.get("configurations"), "configurations"))),
    )


def _english(descriptions: list[Any]) -> str:
    texts = [d.get("value", "") for d in descriptions if isinstance(d, dict)]
    english = [
        d.get("value", "") for d in descriptions if isinstance(d, dict) and d.get("lang") == "en"
    ]
    return str((english or texts or [""])[0])


def _score(metrics: dict[str, Any]) -> tuple[float, str]:
    """The NVD ``Primary`` score of the newest CVSS version, else the first other one."""
    for key in _METRICS:
        entries = [m for m in need_list(metrics.get(key), key) if isinstance(m, dict)]
        if not entries:
            continue
        entry = next((m for m in entries if m.get("type") == "Primary"), entries[0])
        data = need_dict(entry.get("cvssData"), f"{key}.cvssData")
        severity = data.get("baseSeverity") or entry.get("baseSeverity") or ""
        return float(data.get("baseScore", 0.0)), str(severity)
    return 0.0, ""


def _ranges(configurations: list[Any]) -> Iterator[AffectedRange]:
    for config in configurations:
        for node in affirmed_nodes(need_dict(config, "configuration")):
            for match in need_list(node.get("cpeMatch"), "cpeMatch"):
                found = cpe_match_ranges(need_dict(match, "cpeMatch"))
                if found is not None:
                    yield found


def affirmed_nodes(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The nodes of one configuration that name what is affected: ``negate: true``
    inverts a node (or, on the configuration, all of it), so its ``cpeMatch`` entries say
    what is *not* affected and give no range."""
    if config.get("negate") is True:
        return []
    nodes = [need_dict(node, "node") for node in need_list(config.get("nodes"), "nodes")]
    return [node for node in nodes if node.get("negate") is not True]


def cpe_match_ranges(match: dict[str, Any]) -> AffectedRange | None:
    """One NVD ``cpeMatch`` as a range, or None when it is not an affected product."""
    if match.get("vulnerable") is not True:
        return None
    criteria = need_str(match.get("criteria"), "cpeMatch.criteria")
    cpe = parse_cpe(criteria)
    if cpe.part != "a" and (cpe.part != "o" or (cpe.vendor, cpe.product) != _KERNEL):
        return None
    bounds = {k: match.get(k) or "" for k in _BOUND_KEYS}
    match_id = str(match.get("matchCriteriaId") or "")
    if not any(bounds.values()) and cpe.version not in ("*", ""):
        return AffectedRange.checked(
            criteria, start=cpe.version, end=cpe.version, match_id=match_id
        )
    return AffectedRange.checked(
        criteria,
        start=bounds["versionStartIncluding"] or bounds["versionStartExcluding"],
        start_excluded=bool(bounds["versionStartExcluding"]),
        end=bounds["versionEndIncluding"] or bounds["versionEndExcluding"],
        end_excluded=bool(bounds["versionEndExcluding"]),
        match_id=match_id,
    )


_BOUND_KEYS: Final = (
    "versionStartIncluding",
    "versionStartExcluding",
    "versionEndIncluding",
    "versionEndExcluding",
)
