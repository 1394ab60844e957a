"""CSAF 2.0 advisories and VEX documents (Red Hat style; reference/vuln-formats.md §5, §10).

One record per document, named by ``document.tracking.id`` (``RHSA-2025:23414``); a
VEX document whose tracking id is itself a CVE id is named ``CSAF:<CVE id>`` so that it
never replaces the NVD record of that CVE. Every ``vulnerabilities[].cve`` becomes a
``CVE`` reference.

Products: a relationship ``<component> default_component_of <platform>`` ties an RPM
(its ``purl`` gives name, version, release and epoch) to a platform whose CPE names the
stream. Each product id in a product status list becomes one range on the criteria
``osv:<platform CPE>/<package name>`` (the package form a mapping of type ``osv``
names):

- ``fixed`` / ``first_fixed``: affected below the product's EVR (end excluded);
- ``first_affected``: affected from the product's EVR on; ``last_affected``: up to it;
- ``known_affected`` (and the two above without a version): every version affected;
- ``known_not_affected``: a not-affected statement, except for versioned source RPMs:
  an advisory lists every ``.src`` build as not affected (a source package is never
  installed), which says nothing about the binaries built from it.

A VEX names the packages it has no fix for by bare source components: a purl without a
version (``pkg:rpm/redhat/kernel?arch=src``), tied to a stream by a relationship. Those
are read too: affected in every version, or not affected, for their stream. Products
that are no RPM (no ``pkg:rpm`` purl) are skipped, and so are RPMs built into a Flatpak
(``rpmmod=gimp:flatpak``), which are no package of the platform they are tied to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, unquote

from repotrack.errors import InputError
from repotrack.sources.vulns.jsondoc import load_json, need_dict, need_list, need_str
from repotrack.sources.vulns.records import (
    AffectedRange,
    RecordProblem,
    VulnRecord,
    parse_timestamp,
    raw_json,
)

__all__ = ["parse_csaf"]

_CVE: Final = re.compile(r"^CVE-\d{4}-\d{4,}$")
_PURL: Final = re.compile(
    r"^pkg:rpm/[^/]+/(?P<name>[^@?#]+)(?:@(?P<vr>[^?#]+))?(?:\?(?P<q>[^#]*))?"
)
_SEVERITIES: Final = ("critical", "important", "high", "moderate", "medium", "low")


@dataclass(frozen=True)
class _Component:
    stream: str
    name: str
    evr: str
    arch: str


def parse_csaf(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """The one record of a CSAF 2.0 JSON document."""
    document = load_json(data, path=path)
    if not isinstance(document, dict) or not isinstance(document.get("document"), dict):
        raise InputError("not a CSAF document (no document object)", path=path)
    version = str(document["document"].get("csaf_version", ""))
    if version != "2.0":
        raise InputError(f"unknown csaf_version {version!r} (2.0 is read)", path=path)
    try:
        yield _record(document)
    except (ValueError, TypeError, KeyError) as exc:
        yield RecordProblem(path, str(exc))


def _record(document: dict[str, Any]) -> VulnRecord:
    head = need_dict(document["document"], "document")
    tracking = need_dict(head.get("tracking"), "document.tracking")
    tracking_id = need_str(tracking.get("id"), "document.tracking.id")
    components = _components(need_dict(document.get("product_tree") or {}, "product_tree"))
    vulnerabilities = [
        need_dict(v, "vulnerabilities[]")
        for v in need_list(document.get("vulnerabilities"), "vulnerabilities")
    ]
    cves = [str(v["cve"]) for v in vulnerabilities if v.get("cve")]
    ranges: list[AffectedRange] = []
    for vulnerability in vulnerabilities:
        ranges += _ranges(
            need_dict(vulnerability.get("product_status") or {}, "product_status"), components
        )
    return VulnRecord(
        vuln_id=f"CSAF:{tracking_id}" if _CVE.match(tracking_id) else tracking_id,
        source="csaf",
        summary=str(head.get("title", "")),
        published=parse_timestamp(
            tracking.get("initial_release_date"), name="initial_release_date"
        ),
        modified=parse_timestamp(tracking.get("current_release_date"), name="current_release_date"),
        raw=raw_json(document),
        score=_score(vulnerabilities),
        severity=_severity(head, vulnerabilities),
        url=_self_url(head),
        references=tuple(("CVE", cve) for cve in dict.fromkeys(cves)),
        ranges=tuple(dict.fromkeys(ranges)),
    )


def _components(tree: dict[str, Any]) -> dict[str, _Component]:
    """product_id of each relationship → its RPM and platform stream."""
    products: dict[str, dict[str, Any]] = {}
    _walk(tree, products)
    found: dict[str, _Component] = {}
    for rel in need_list(tree.get("relationships"), "relationships"):
        rel = need_dict(rel, "relationships[]")
        full = need_dict(rel.get("full_product_name"), "full_product_name")
        component = products.get(str(rel.get("product_reference")), {})
        platform = products.get(str(rel.get("relates_to_product_reference")), {})
        purl = _helper(component, "purl")
        match = _PURL.match(purl) if purl else None
        if match is None:
            continue
        query = parse_qs(match["q"] or "")
        if query.get("rpmmod", [""])[0].split(":")[1:2] == ["flatpak"]:
            # An RPM built into a Flatpak (rpmmod=gimp:flatpak) ships inside that
            # application, not on the platform: the stream's own RPM of the same name
            # is another package (the Security Data API's gimp:flatpak/python2).
            continue
        epoch = query.get("epoch", ["0"])[0]
        stream = _helper(platform, "cpe") or str(rel.get("relates_to_product_reference"))
        found[str(full.get("product_id"))] = _Component(
            stream=stream,
            name=unquote(match["name"]),
            # A VEX's unfixed component is a bare name: no version.
            evr=f"{epoch}:{unquote(match['vr'])}" if match["vr"] else "",
            arch=query.get("arch", [""])[0],
        )
    return found


def _walk(branch: dict[str, Any], products: dict[str, dict[str, Any]]) -> None:
    for child in need_list(branch.get("branches"), "branches"):
        child = need_dict(child, "branches[]")
        product = child.get("product")
        if isinstance(product, dict) and product.get("product_id"):
            products[str(product["product_id"])] = product
        _walk(child, products)


def _helper(product: dict[str, Any], key: str) -> str:
    helper = product.get("product_identification_helper")
    return str(helper.get(key, "")) if isinstance(helper, dict) else ""


def _ranges(status: dict[str, Any], components: dict[str, _Component]) -> Iterator[AffectedRange]:
    for kind, product_ids in status.items():
        for product_id in need_list(product_ids, f"product_status.{kind}"):
            component = components.get(str(product_id))
            if component is None:
                continue
            criteria = f"osv:{component.stream}/{component.name}"
            evr = component.evr
            if kind in ("fixed", "first_fixed") and evr:
                yield AffectedRange.checked(criteria, end=evr, end_excluded=True)
            elif kind == "first_affected" and evr:
                yield AffectedRange.checked(criteria, start=evr)
            elif kind == "last_affected" and evr:
                yield AffectedRange.checked(criteria, end=evr)
            elif kind in ("known_affected", "first_affected", "last_affected"):
                yield AffectedRange(criteria)
            elif kind == "known_not_affected" and not (component.arch == "src" and evr):
                yield AffectedRange.statement(criteria)


def _score(vulnerabilities: list[dict[str, Any]]) -> float:
    scores = [
        float(cvss.get("baseScore", 0.0))
        for v in vulnerabilities
        for s in need_list(v.get("scores"), "scores")
        for key in ("cvss_v3", "cvss_v2")
        if isinstance(s, dict) and isinstance(cvss := s.get(key), dict)
    ]
    return max(scores, default=0.0)


def _severity(head: dict[str, Any], vulnerabilities: list[dict[str, Any]]) -> str:
    aggregate = head.get("aggregate_severity")
    if isinstance(aggregate, dict) and aggregate.get("text"):
        return str(aggregate["text"])
    impacts = [
        str(t.get("details", ""))
        for v in vulnerabilities
        for t in need_list(v.get("threats"), "threats")
        if isinstance(t, dict) and t.get("category") == "impact"
    ]
    ranked = sorted(
        impacts, key=lambda w: _SEVERITIES.index(w.lower()) if w.lower() in _SEVERITIES else 99
    )
    return ranked[0] if ranked else ""


def _self_url(head: dict[str, Any]) -> str:
    for ref in need_list(head.get("references"), "references"):
        if isinstance(ref, dict) and ref.get("category") == "self":
            return str(ref.get("url", ""))
    return ""
