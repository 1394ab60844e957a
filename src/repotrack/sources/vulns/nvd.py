"""NVD CVE API 2.0 responses and feed files, and the legacy 1.1 feed files
(reference/vuln-formats.md §1).

Accepted shapes: an API page or ``nvdcve-2.0-*.json`` feed file (``vulnerabilities[]``
of ``{"cve": ...}``), one ``{"cve": ...}`` item, or a bare ``cve`` object. Unknown
keys are ignored (newer records add ``affected`` and ``ssvcV203``).

The retired ``nvdcve-1.1-*.json`` feeds (``CVE_data_version`` 4.0, ``CVE_Items[]``; NVD
stopped them in December 2023, archives keep them) give the same records: the English
description, ``impact.baseMetricV3`` else ``baseMetricV2`` as the score (the 2.0 order:
newest CVSS version first; 1.1 holds only NVD's own scores), ``publishedDate`` /
``lastModifiedDate``, and the rejection marker of that format, a description starting
``** REJECT **`` (1.1 has no ``vulnStatus``). The raw record kept is the 1.1 item as it
is (``cve``, ``configurations``, ``impact`` and the dates), not a 2.0 translation.
1.1 nests configurations: a top node with ``operator: AND`` holds its ``children[]``
nodes, as a 2.0 configuration with ``operator: AND`` holds its nodes; ``cpe_match[]``
entries (``cpe23Uri``, the same ``version*`` bounds; ``cpe_name[]`` is ignored) give
ranges by the rules below, a ``negate: true`` node dropping all it holds.

Ranges: every ``cpeMatch`` with ``vulnerable: true`` whose CPE is an application
(``cpe:2.3:a:``) or the Linux kernel, as ALTRepo keeps them; ``vulnerable: false``
entries are platforms, never affected products, and so are the entries of a node (or
configuration) with ``negate: true``, which says what is *not* affected. A criteria
with a concrete version and no bounds is the range [version, version]; version ``-``
("not applicable") keeps ``-`` as both bounds, which the matcher never matches with a
versioned package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
#: The one ``CVE_data_version`` of the 1.1 feeds (their items and configurations too).
LEGACY_VERSION: Final = "4.0"
#: How a 1.1 description marks a rejected CVE (2.0 says ``vulnStatus: Rejected``).
LEGACY_REJECT: Final = "** REJECT **"
_METRICS: Final = ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2")
_KERNEL: Final = ("linux", "linux_kernel")


def parse_nvd(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """The records of one NVD 2.0 (or 1.1 feed) document, a ``RecordProblem`` for each
    unreadable one.

    A page or feed file is read one record at a time (``iter_members``): a yearly feed
    is hundreds of megabytes. A document that breaks off raises its ``InputError`` after
    the records before the break."""
    members: dict[str, Any] = {}
    counts = dict.fromkeys(_STREAMS, 0)
    for key, value in iter_members(data, path=path, stream=tuple(_STREAMS)):
        name = key.removesuffix("[]")
        if name == key or name not in _STREAMS:
            members[key] = value
            continue
        check, read = _STREAMS[name]
        if counts[name] == 0:
            check(members, path=path)
        yield read(value, where=f"{path}: {name}[{counts[name]}]")
        counts[name] += 1
    if any(counts.values()):
        for name, count in counts.items():
            if count:
                _STREAMS[name][0](members, path=path)  # a version written after the records
        return
    for index, (read, item) in enumerate(_items(members.get("", members), path=path)):
        yield read(item, where=f"{path}: vulnerabilities[{index}]")


def _item(item: Any, *, where: str) -> VulnRecord | RecordProblem:
    try:
        cve = need_dict(item.get("cve", item) if isinstance(item, dict) else item, "cve")
        return _record(cve)
    except (ValueError, TypeError) as exc:
        named = item.get("cve", item) if isinstance(item, dict) else None
        cve_id = named.get("id") if isinstance(named, dict) else None
        return RecordProblem(f"{where} ({cve_id})" if cve_id else where, str(exc))


def _legacy_item(item: Any, *, where: str) -> VulnRecord | RecordProblem:
    try:
        return _legacy_record(need_dict(item, "CVE_Items[]"))
    except (ValueError, TypeError) as exc:
        cve = item.get("cve") if isinstance(item, dict) else None
        meta = cve.get("CVE_data_meta") if isinstance(cve, dict) else None
        cve_id = meta.get("ID") if isinstance(meta, dict) else None
        return RecordProblem(f"{where} ({cve_id})" if cve_id else where, str(exc))


def _check_version(members: dict[str, Any], *, path: str) -> None:
    from repotrack.errors import InputError

    version = str(members.get("version", "2.0"))
    if not version.startswith("2."):
        raise InputError(f"unknown NVD schema version {version!r} (2.x is read)", path=path)


def _check_legacy_version(members: dict[str, Any], *, path: str) -> None:
    from repotrack.errors import InputError

    version = str(members.get("CVE_data_version", LEGACY_VERSION))
    if version != LEGACY_VERSION:
        raise InputError(
            f"unknown NVD 1.1 feed CVE_data_version {version!r} ({LEGACY_VERSION} is read)",
            path=path,
        )


_Reader = Callable[..., VulnRecord | RecordProblem]
#: The arrays of records, read one item at a time: 2.0 pages and feeds, 1.1 feeds.
_STREAMS: Final[dict[str, tuple[Callable[..., None], _Reader]]] = {
    "vulnerabilities": (_check_version, _item),
    "CVE_Items": (_check_legacy_version, _legacy_item),
}


def _items(document: Any, *, path: str) -> list[tuple[_Reader, Any]]:
    """The items of a document that was not streamed, each with its reader."""
    from repotrack.errors import InputError

    if not isinstance(document, dict):
        raise InputError("an NVD document is a JSON object", path=path)
    for key, (check, _) in _STREAMS.items():
        if key in document:
            check(document, path=path)
            if not isinstance(document[key], list):
                raise InputError(f"{key} is not a list", path=path)
            return []  # an array is always streamed: this one was empty
    cve = document.get("cve")
    if isinstance(cve, dict) and "CVE_data_meta" in cve:
        return [(_legacy_item, document)]  # one 1.1 item
    if "cve" in document or "id" in document:
        return [(_item, document)]
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
        references=_web_links(cve.get("references"), "references"),
        ranges=tuple(_ranges(need_list(cve.get("configurations"), "configurations"))),
    )


def _web_links(entries: Any, name: str) -> tuple[tuple[str, str], ...]:
    """The ``url`` of each reference entry (2.0 ``references``, 1.1 ``reference_data``)."""
    return tuple(
        ("web", need_str(ref.get("url"), f"{name}[].url"))
        for ref in need_list(entries, name)
        if isinstance(ref, dict)
    )


def _legacy_record(item: dict[str, Any]) -> VulnRecord:
    """One ``CVE_Items[]`` entry of a 1.1 feed, read as ``_record`` reads a 2.0 ``cve``."""
    cve = need_dict(item.get("cve"), "cve")
    _legacy_data_version(cve.get("data_version"), "cve.data_version")
    meta = need_dict(cve.get("CVE_data_meta"), "cve.CVE_data_meta")
    cve_id = need_str(meta.get("ID"), "CVE_data_meta.ID")
    description = need_dict(cve.get("description") or {}, "cve.description")
    summary = _english(need_list(description.get("description_data"), "description_data"))
    references = need_dict(cve.get("references") or {}, "cve.references")
    configurations = need_dict(item.get("configurations") or {}, "configurations")
    _legacy_data_version(configurations.get("CVE_data_version"), "configurations.CVE_data_version")
    score, severity = _legacy_score(need_dict(item.get("impact") or {}, "impact"))
    return VulnRecord(
        vuln_id=cve_id,
        source=SOURCE,
        summary=summary,
        published=parse_timestamp(item.get("publishedDate"), name="publishedDate"),
        modified=parse_timestamp(item.get("lastModifiedDate"), name="lastModifiedDate"),
        raw=raw_json(item),
        score=score,
        severity=severity,
        url=f"https://nvd.nist.gov/vuln/detail/{cve_id}",
        rejected=summary.lstrip().startswith(LEGACY_REJECT),
        references=_web_links(references.get("reference_data"), "reference_data"),
        ranges=tuple(
            found
            for node in need_list(configurations.get("nodes"), "nodes")
            for found in _legacy_ranges(need_dict(node, "node"))
        ),
    )


def _legacy_data_version(version: Any, name: str) -> None:
    """An item stating another format version than the feed's is not read."""
    if version is not None and str(version) != LEGACY_VERSION:
        raise ValueError(f"unknown {name} {version!r} ({LEGACY_VERSION} is read)")


def _legacy_score(impact: dict[str, Any]) -> tuple[float, str]:
    """CVSS v3 (3.0 or 3.1: 1.1 keeps one) else v2, as ``_score`` prefers the newest."""
    v3 = impact.get("baseMetricV3")
    if v3:
        data = need_dict(need_dict(v3, "baseMetricV3").get("cvssV3"), "baseMetricV3.cvssV3")
        return float(data.get("baseScore", 0.0)), str(data.get("baseSeverity") or "")
    v2 = impact.get("baseMetricV2")
    if v2:
        entry = need_dict(v2, "baseMetricV2")
        data = need_dict(entry.get("cvssV2"), "baseMetricV2.cvssV2")
        severity = entry.get("severity") or data.get("baseSeverity") or ""
        return float(data.get("baseScore", 0.0)), str(severity)
    return 0.0, ""


def _legacy_ranges(node: dict[str, Any]) -> Iterator[AffectedRange]:
    """The ranges of a 1.1 node and its ``children[]``. A top node with children is what
    2.0 calls a configuration, a child what 2.0 calls a node: ``negate: true`` on either
    drops everything below it, as ``affirmed_nodes`` drops a negated configuration or
    node; AND and OR give the same ranges (platforms are ``vulnerable: false``)."""
    if node.get("negate") is True:
        return
    for match in need_list(node.get("cpe_match"), "cpe_match"):
        found = cpe_match_ranges(need_dict(match, "cpe_match"), criteria_key="cpe23Uri")
        if found is not None:
            yield found
    for child in need_list(node.get("children"), "children"):
        yield from _legacy_ranges(need_dict(child, "children[]"))


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


def cpe_match_ranges(
    match: dict[str, Any], *, criteria_key: str = "criteria"
) -> AffectedRange | None:
    """One NVD ``cpeMatch`` as a range, or None when it is not an affected product.

    ``criteria_key`` ``cpe23Uri`` reads a 1.1 ``cpe_match`` entry (it has no
    ``matchCriteriaId``: the range's ``match_id`` is empty)."""
    if match.get("vulnerable") is not True:
        return None
    criteria = need_str(match.get(criteria_key), f"cpeMatch.{criteria_key}")
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
