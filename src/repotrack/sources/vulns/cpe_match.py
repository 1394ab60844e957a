"""The NVD CPE match feed: a CVE's match criteria expanded to concrete CPE names.

A CVE's ``cpeMatch`` names a criteria (``cpe:2.3:a:squid-cache:squid:*:…``) with
version bounds and a ``matchCriteriaId``; the match feed lists, per criteria, the
dictionary names it covers (``…:squid:6.9:…``, ``…:squid:7.1:…``). That tells which
products and versions NVD has in mind, and whether a package's mapping names a
product NVD knows at all (reference/vuln-formats.md §3).

Two shapes are read (one document or page at a time):

- the Match Criteria API 2.0 (``/rest/json/cpematch/2.0``) pages and the 2.0 feed files:
  ``format`` ``NVD_CPEMatchString``, ``matchStrings[]`` of ``{"matchString": {criteria,
  matchCriteriaId, versionStart*/versionEnd*, created, lastModified, status,
  matches[{cpeName, cpeNameId}]}}``;
- the retired 1.0 feed ``nvdcpematch-1.0.json``: ``matches[]`` of ``{cpe23Uri,
  versionStart*/versionEnd*, cpe_name[{cpe23Uri}]}``. It has no criteria ids; each
  entry gets ``legacy:<hash of criteria and bounds>``, stable across runs.

A match string that cannot be read is a ``RecordProblem``; the others load.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from repotrack.errors import InputError
from repotrack.rpm import mmhash
from repotrack.sources.vulns.cpe import Cpe, parse_cpe
from repotrack.sources.vulns.jsondoc import load_json, need_dict, need_list, need_str
from repotrack.sources.vulns.records import (
    EPOCH_START,
    RecordProblem,
    parse_timestamp,
    raw_json,
)

__all__ = ["MatchString", "parse_cpe_match"]

_BOUNDS: Final = (
    "versionStartIncluding",
    "versionStartExcluding",
    "versionEndIncluding",
    "versionEndExcluding",
)


@dataclass(frozen=True)
class MatchString:
    """One match criteria with its bounds and the concrete names it covers.

    ``raw`` is the source entry as sorted JSON (its hash tells a changed entry from a
    re-read one); ``active`` is False for NVD's ``Inactive`` criteria (kept, marked).
    """

    match_id: str
    criteria: str
    cpe: Cpe
    start: str
    start_excluded: bool
    end: str
    end_excluded: bool
    active: bool
    created: datetime
    modified: datetime
    names: tuple[str, ...]
    raw: str

    @property
    def content_hash(self) -> int:
        return mmhash(self.raw)


def parse_cpe_match(data: bytes, *, path: str) -> Iterator[MatchString | RecordProblem]:
    """The match strings of one API page, 2.0 feed file or legacy 1.0 feed."""
    document = load_json(data, path=path)
    if not isinstance(document, dict):
        raise InputError("a CPE match document is a JSON object", path=path)
    if "matchStrings" in document:
        version = str(document.get("version", "2.0"))
        if not version.startswith("2."):
            raise InputError(
                f"unknown CPE match schema version {version!r} (2.x is read)", path=path
            )
        entries = document["matchStrings"]
        read = _api_entry
    elif "matches" in document:
        entries = document["matches"]
        read = _legacy_entry
    else:
        raise InputError("neither a CPE match API page nor an nvdcpematch-1.0 feed", path=path)
    if not isinstance(entries, list):
        raise InputError("the list of match strings is not a list", path=path)
    for index, entry in enumerate(entries):
        try:
            yield read(entry)
        except (ValueError, TypeError) as exc:
            yield RecordProblem(f"{path}: match[{index}]", str(exc))


def _api_entry(entry: Any) -> MatchString:
    item = need_dict(need_dict(entry, "matchStrings[]").get("matchString"), "matchString")
    match_id = need_str(item.get("matchCriteriaId"), "matchCriteriaId")
    criteria = need_str(item.get("criteria"), "criteria")
    names = [
        need_str(need_dict(m, "matches[]").get("cpeName"), "matches[].cpeName")
        for m in need_list(item.get("matches"), "matches")
    ]
    created = item.get("created")
    modified = item.get("lastModified") or created
    return _match_string(
        match_id,
        criteria,
        item,
        names,
        active=str(item.get("status", "Active")).lower() != "inactive",
        created=parse_timestamp(created, name="created") if created else EPOCH_START,
        modified=parse_timestamp(modified, name="lastModified") if modified else EPOCH_START,
    )


def _legacy_entry(entry: Any) -> MatchString:
    item = need_dict(entry, "matches[]")
    criteria = need_str(item.get("cpe23Uri"), "cpe23Uri")
    names = [
        need_str(need_dict(m, "cpe_name[]").get("cpe23Uri"), "cpe_name[].cpe23Uri")
        for m in need_list(item.get("cpe_name"), "cpe_name")
    ]
    identity = "\0".join([criteria, *(str(item.get(k) or "") for k in _BOUNDS)])
    match_id = f"legacy:{mmhash(identity):016x}"
    return _match_string(
        match_id, criteria, item, names, active=True, created=EPOCH_START, modified=EPOCH_START
    )


def _match_string(
    match_id: str,
    criteria: str,
    item: dict[str, Any],
    names: list[str],
    *,
    active: bool,
    created: datetime,
    modified: datetime,
) -> MatchString:
    cpe = parse_cpe(criteria)
    for name in names:
        parse_cpe(name)  # a name that is no CPE 2.3 makes the entry unreadable
    bounds = {k: str(item.get(k) or "") for k in _BOUNDS}
    for key, value in bounds.items():
        if value and any(c.isspace() for c in value):
            raise ValueError(f"{key} {value!r} is not a version")
    start = bounds["versionStartIncluding"] or bounds["versionStartExcluding"]
    end = bounds["versionEndIncluding"] or bounds["versionEndExcluding"]
    return MatchString(
        match_id=match_id,
        criteria=criteria,
        cpe=cpe,
        start=start,
        start_excluded=bool(bounds["versionStartExcluding"]),
        end=end,
        end_excluded=bool(bounds["versionEndExcluding"]),
        active=active,
        created=created,
        modified=modified,
        names=tuple(dict.fromkeys(names)),
        raw=raw_json(item),
    )
