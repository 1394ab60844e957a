"""Red Hat's Security Data API, one CVE per document (reference/vuln-formats.md §8).

``https://access.redhat.com/hydra/rest/securitydata/cve/CVE-2023-4863.json`` says, per
product stream (its ``cpe``), which source package is fixed by which advisory
(``affected_release[]``: ``package`` is ``name-epoch:version-release``) and what state
the others are in (``package_state[]``: ``fix_state`` Affected, Not affected, Will not
fix, Fix deferred, Out of support scope, New, Under investigation)::

    {"name": "CVE-2023-4863", "threat_severity": "Important", "public_date": "...",
     "bugzilla": {"description": "..."}, "cvss3": {"cvss3_base_score": "8.8"},
     "affected_release": [{"product_name": "Red Hat Enterprise Linux 8",
         "advisory": "RHSA-2023:5309", "cpe": "cpe:/a:redhat:enterprise_linux:8",
         "package": "libwebp-0:1.0.0-8.el8_8.1", "release_date": "..."}],
     "package_state": [{"product_name": "Red Hat Enterprise Linux 7",
         "fix_state": "Not affected", "package_name": "libwebp",
         "cpe": "cpe:/o:redhat:enterprise_linux:7"}]}

One record per document, ``REDHAT:<CVE id>`` (the CVE's own id belongs to its NVD
record, as ``CSAF:`` and ``OVAL:`` records do), linked to the CVE. Its ranges are
OSV-style, on ``osv:<cpe>/<package>`` as Red Hat's CSAF records name theirs: a fixed
package is affected below its fixed build (the lowest, when one stream lists the package
in several advisories); ``Not affected`` is a vendor statement that every version is
not affected; Affected, Will not fix, Fix deferred and Out of support scope are affected
in every version; New and Under investigation say nothing yet and give no range (as
CSAF's ``under_investigation``). A state's ``module:stream/rpm`` name
(``python36:3.6/python36``) is the RPM ``rpm`` of a module stream, read as that RPM, as
the VEX of the same CVE names it (``pkg:rpm/redhat/python36?rpmmod=python36:3.6``); other
names with a ``/`` (``firefox:flatpak/firefox``, ``rhel8/skopeo``) are Flatpaks or
containers, not RPMs, and are passed over.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from repotrack.errors import InputError
from repotrack.rpm import evr_key
from repotrack.sources.vulns.jsondoc import load_json, need_dict, need_list, need_str
from repotrack.sources.vulns.records import (
    AffectedRange,
    RecordProblem,
    VulnRecord,
    parse_timestamp,
    raw_json,
    read_each,
)

__all__ = ["parse_redhat_cve"]

_NEVR: Final = re.compile(r"^(?P<name>.+)-(?P<epoch>\d+):(?P<version>[^-]+)-(?P<release>[^-]+)$")
_CVE: Final = re.compile(r"^CVE-\d{4}-\d{4,}$")
#: ``fix_state`` → the range it gives: "affected" (every version), "not_affected" (a
#: vendor statement), or None (nothing known yet).
_STATES: Final = {
    "affected": "affected",
    "will not fix": "affected",
    "fix deferred": "affected",
    "out of support scope": "affected",
    "not affected": "not_affected",
    "new": None,
    "under investigation": None,
}


def parse_redhat_cve(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """The record of one Security Data API CVE document (or a JSON list of them)."""
    document = load_json(data, path=path)
    items = document if isinstance(document, list) else [document]
    yield from read_each(items, path, _record, check=_check, label="name")


def _check(item: Any, where: str) -> None:
    if isinstance(item, dict) and "resource_url" in item and "CVE" in item:
        raise InputError(
            "a list of CVE summaries (…/securitydata/cve.json): load each CVE's "
            "resource_url (…/securitydata/cve/CVE-….json) instead",
            path=where,
        )
    if not isinstance(item, dict) or not (
        "package_state" in item or "affected_release" in item or "threat_severity" in item
    ):
        raise InputError("not a Red Hat Security Data API CVE document", path=where)


def _record(item: dict[str, Any]) -> VulnRecord:
    cve = need_str(item.get("name"), "name")
    if not _CVE.match(cve):
        raise ValueError(f"name {cve!r} is not a CVE id")
    published = parse_timestamp(item.get("public_date"), name="public_date")
    releases = [need_dict(r, "affected_release[]") for r in _list(item, "affected_release")]
    dates = [parse_timestamp(r["release_date"], name="release_date")
             for r in releases if r.get("release_date")]  # fmt: skip
    bugzilla = item.get("bugzilla")
    details = [str(d) for d in _list(item, "details")]
    summary = str(bugzilla.get("description", "")) if isinstance(bugzilla, dict) else ""
    references = [("CVE", cve)]
    references += [("web", url) for url in _references(item.get("references"))]
    return VulnRecord(
        vuln_id=f"REDHAT:{cve}",
        source="redhat",
        summary=summary.strip() or (details[0] if details else ""),
        published=published,
        modified=max([published, *dates]),
        raw=raw_json(item),
        score=_score(item),
        severity=str(item.get("threat_severity") or ""),
        url=f"https://access.redhat.com/security/cve/{cve}",
        references=tuple(dict.fromkeys(references)),
        ranges=tuple(_ranges(releases, _list(item, "package_state"))),
    )


def _ranges(releases: list[dict[str, Any]], states: list[Any]) -> Iterator[AffectedRange]:
    fixed: dict[str, tuple[int, str, str]] = {}
    for entry in releases:
        found = _NEVR.match(str(entry.get("package") or ""))
        cpe = str(entry.get("cpe") or "")
        if found is None or not cpe or "/" in found["name"]:
            continue  # a container image or an entry without a stream: no RPM to compare
        criteria = f"osv:{cpe}/{found['name']}"
        build = (int(found["epoch"]), found["version"], found["release"])
        seen = fixed.get(criteria)
        if seen is None or evr_key(*build) < evr_key(*seen):
            fixed[criteria] = build
    for criteria, (epoch, version, release) in fixed.items():
        yield AffectedRange.checked(criteria, end=f"{epoch}:{version}-{release}", end_excluded=True)
    for item in states:
        state = need_dict(item, "package_state[]")
        name = need_str(state.get("package_name"), "package_state[].package_name")
        cpe = need_str(state.get("cpe"), "package_state[].cpe")
        fix_state = str(state.get("fix_state", "")).strip().lower()
        if fix_state not in _STATES:
            raise ValueError(f"unknown fix_state {state.get('fix_state')!r} of {name}")
        kind = _STATES[fix_state]
        name = _module_rpm(name)
        if "/" in name or kind is None:
            continue
        criteria = f"osv:{cpe}/{name}"
        yield (
            AffectedRange.statement(criteria) if kind == "not_affected" else AffectedRange(criteria)
        )


def _module_rpm(name: str) -> str:
    """``python36:3.6/python36`` → ``python36``: a module stream's RPM is an RPM of the
    stream, as the VEX names it. A Flatpak (``gimp:flatpak/python2``) or a container
    (``rhel8/skopeo``) keeps its ``/`` and is passed over."""
    module, slash, rpm = name.partition("/")
    stream = module.partition(":")[2]
    return rpm if slash and stream and stream != "flatpak" and "/" not in rpm else name


def _list(item: dict[str, Any], key: str) -> list[Any]:
    return need_list(item.get(key), key)


def _references(value: Any) -> list[str]:
    """``references``: strings, sometimes one string of several lines."""
    texts = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    return [line.strip() for text in texts for line in str(text).split() if "://" in line]


def _score(item: dict[str, Any]) -> float:
    for key, field in (("cvss3", "cvss3_base_score"), ("cvss", "cvss_base_score")):
        block = item.get(key)
        if isinstance(block, dict) and block.get(field) not in (None, ""):
            return float(block[field])
    return 0.0
