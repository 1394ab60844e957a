"""CVRF 1.1/1.2 advisories as SUSE and openEuler publish them (vuln-formats.md §6, §9).

One record per advisory document, as for CSAF (``csaf.py``): named by
``DocumentTracking/Identification/ID`` (``SUSE-SU-2019:1608-1``,
``openEuler-SA-2023-1374``; a document whose id is itself a CVE id, or SUSE's
``SUSE CVE-2022-38150`` of its per-CVE ``cvrf-CVE-*.xml`` files, is named
``CVRF:<CVE id>`` so that it never replaces the NVD record of that CVE). Every
``Vulnerability/CVE`` becomes a ``CVE`` reference, the URLs of its ``References`` ``web``
references. Summary: ``DocumentTitle``; dates: ``InitialReleaseDate`` /
``CurrentReleaseDate``; url: the first ``Self`` document reference; severity: the
gravest ``Threat Type="Impact"`` description, word kept as written (``moderate``,
``Critical``); score: the highest base score, per vulnerability ``ScoreSetV3`` when
present, else ``ScoreSet`` (CVRF 1.1) or ``ScoreSetV2``.

Products. A status ``ProductID`` is resolved through the ``ProductTree``:

- SUSE: a ``Relationship`` (any ``RelationType``; both vendors write ``Default Component
  Of``) ties a package product, ``name-version-release`` (``krb5-1.16.3-lp151.2.6.1``),
  to a platform; the stream is the platform's ``ProductID`` as written
  (``SUSE Linux Enterprise Server 15 SP1``, ``openSUSE Leap 15.1``), which is also its
  name;
- openEuler: the status names the release only (``openEuler-22.03-LTS-SP1``); its
  packages are every ``FullProductName`` whose ``CPE`` attribute is the release's
  (``Package Arch`` branches), read from the element text, the file name that carries
  the dist tag (``wireshark-3.6.14-1.oe2203sp1.aarch64.rpm``). The stream is the
  release's ``ProductID``.

A package is split at its last two ``-`` after a trailing ``.rpm`` and ``.<arch>`` are
stripped. Each product gives one range on ``osv:<stream>/<rpm name>`` (the criteria a
``repotrack vulns map ecosystem -b BRANCH STREAM`` mapping names), identical ranges once:

- ``Fixed`` / ``First Fixed``: affected below the product's version-release (end
  excluded). CVRF writes no epoch, so neither does the bound: the matcher compares an
  epoch-less bound with the package's own epoch;
- ``First Affected``: affected from the version-release on; ``Last Affected``: up to
  it; ``Known Affected`` (and those two without a version): every version affected;
- ``Known Not Affected``: a not-affected statement, except for versioned ``.src``
  packages (as in CSAF: a source package says nothing about its binaries);
- ``Recommended`` is ignored (CSAF's ``recommended`` is too). A package product that no
  relationship ties to a platform (openSUSE's ``dropbear-2016.72-2.7.1``) names no stream
  and gives no range.

Input. Files declared UTF-8 that hold stray Latin-1 bytes (openSUSE, 2016) are read
with those bytes taken as Latin-1. XML is read by ``xmlstream`` (no DTD, hence no entity
expansion). Malformed XML, a root other than ``cvrfdoc`` or a namespace other than
CVRF 1.1/1.2 (ICASI's, or OASIS's ``http://docs.oasis-open.org/csaf/ns/csaf-cvrf/v1.2/cvrf``
that SUSE writes today) is an ``InputError`` naming the file; one unreadable ``Vulnerability``
(a malformed CVE id, a status without a known type, a product id the tree lacks, a
score that is no number) is a ``RecordProblem`` and the advisory loads without it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final
from xml.etree import ElementTree as ET

from repotrack.errors import InputError
from repotrack.sources.vulns.records import (
    AffectedRange,
    RecordProblem,
    VulnRecord,
    parse_timestamp,
    raw_json,
)
from repotrack.sources.xmlstream import iter_elements, local_name

__all__ = ["parse_cvrf"]

#: ICASI's CVRF 1.1 and 1.2 namespaces, and OASIS's for CVRF 1.2 (the CSAF TC took CVRF
#: over in 2017): SUSE's current files, ``cvrf1.2/`` advisories and ``cvrf-cve/`` per-CVE
#: documents alike, declare the OASIS one; refusing it refused all of SUSE's current data.
_NAMESPACES: Final = frozenset(
    [
        *(f"http://www.icasi.org/CVRF/schema/cvrf/{v}" for v in ("1.1", "1.2")),
        "http://docs.oasis-open.org/csaf/ns/csaf-cvrf/v1.2/cvrf",
    ]
)
_TAGS: Final = frozenset(
    {
        "cvrfdoc",
        "DocumentTitle",
        "DocumentTracking",
        "DocumentNotes",
        "DocumentReferences",
        "ProductTree",
        "Vulnerability",
    }
)
_CVE: Final = re.compile(r"^CVE-\d{4}-\d{4,}$")
#: SUSE's per-CVE documents name themselves ``SUSE CVE-2022-38150``.
_SUSE_CVE_DOC: Final = re.compile(r"^SUSE (CVE-\d{4}-\d{4,})$")
_STATUSES: Final = frozenset(
    {
        "First Affected",
        "Known Affected",
        "Known Not Affected",
        "First Fixed",
        "Fixed",
        "Recommended",
        "Last Affected",
    }
)
_ARCHES: Final = frozenset(
    {
        "src",
        "nosrc",
        "noarch",
        "x86_64",
        "aarch64",
        "i386",
        "i486",
        "i586",
        "i686",
        "ppc",
        "ppc64",
        "ppc64le",
        "s390",
        "s390x",
        "armv6hl",
        "armv7hl",
        "riscv64",
        "loongarch64",
    }
)
_SEVERITIES: Final = ("critical", "important", "high", "moderate", "medium", "low")
_DIGIT: Final = re.compile(r"\d")


@dataclass(frozen=True)
class _Package:
    stream: str
    name: str
    vr: str  # version-release, no epoch; empty for a bare name
    arch: str


@dataclass
class _Tree:
    """The product tree: packages and platforms by product id, and relationships."""

    names: dict[str, list[str]] = field(default_factory=dict)  # id → texts (openEuler repeats)
    cpes: dict[str, list[str]] = field(default_factory=dict)  # id → CPE attributes
    platforms: dict[str, str] = field(default_factory=dict)  # "Product Name" id → its CPE
    relations: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (pkg, platform)
    by_cpe: dict[str, list[str]] = field(default_factory=dict)  # CPE → package texts


@dataclass
class _Vulnerability:
    cve: str
    statuses: dict[str, list[str]]
    impacts: list[str]
    score: float
    links: list[str]


def parse_cvrf(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """The one record of a CVRF 1.1/1.2 document (and a problem per bad vulnerability)."""
    head: dict[str, Any] = {"notes": {}, "urls": []}
    tree = _Tree()
    vulnerabilities: list[_Vulnerability] = []
    problems: list[RecordProblem] = []
    root = ""
    for element in iter_elements(io.BytesIO(_utf8(data)), name=path, tags=_TAGS):
        tag = local_name(element.tag)
        if tag == "cvrfdoc":
            root = element.tag
        elif tag == "ProductTree":
            _walk(element, tree, "")
        elif tag == "Vulnerability":
            where = f"{path}: Vulnerability {element.get('Ordinal') or len(vulnerabilities) + 1}"
            try:
                vulnerabilities.append(_vulnerability(element))
            except ValueError as exc:
                problems.append(RecordProblem(where, str(exc)))
        else:
            _head(element, tag, head)
    if not root:
        raise InputError("not a CVRF document (no cvrfdoc root element)", path=path)
    namespace = root[1:].partition("}")[0] if root.startswith("{") else ""
    if namespace not in _NAMESPACES:
        raise InputError(
            f"unknown CVRF namespace {namespace!r} (CVRF 1.1 and 1.2 are read)", path=path
        )
    good: list[_Vulnerability] = []
    for number, vulnerability in enumerate(vulnerabilities, 1):
        unknown = [
            pid
            for ids in vulnerability.statuses.values()
            for pid in ids
            if pid not in tree.names and pid not in tree.relations
        ]
        if unknown:
            where = f"{path}: Vulnerability {vulnerability.cve or number}"
            problems.append(
                RecordProblem(where, f"product id {unknown[0]!r} is not in ProductTree")
            )
        else:
            good.append(vulnerability)
    yield from problems
    try:
        yield _record(head, tree, good)
    except ValueError as exc:
        yield RecordProblem(path, str(exc))


def _utf8(data: bytes) -> bytes:
    """``data`` as valid UTF-8: bytes that are not UTF-8 are read as Latin-1 (SUSE 2016)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        prolog = data[:200].lower()
        if b"encoding=" in prolog and b"utf-8" not in prolog:
            return data  # another declared encoding: expat reads it
        text = data.decode("utf-8", "surrogateescape")
        return re.sub("[\udc80-\udcff]", lambda m: chr(ord(m.group()) - 0xDC00), text).encode()
    return data


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in element if local_name(c.tag) == name]


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _child_text(element: ET.Element, *names: str) -> str:
    node: ET.Element | None = element
    for name in names:
        node = next(iter(_children(node, name)), None) if node is not None else None
    return _text(node)


def _head(element: ET.Element, tag: str, head: dict[str, Any]) -> None:
    if tag == "DocumentTitle":
        head["title"] = _text(element)
    elif tag == "DocumentTracking":
        head["id"] = _child_text(element, "Identification", "ID")
        head["initial"] = _child_text(element, "InitialReleaseDate")
        head["current"] = _child_text(element, "CurrentReleaseDate")
    elif tag == "DocumentNotes":
        for note in _children(element, "Note"):
            head["notes"][note.get("Title", "")] = _text(note)
    elif tag == "DocumentReferences":
        for ref in _children(element, "Reference"):
            if ref.get("Type") == "Self":
                head["urls"] += [_text(u) for u in _children(ref, "URL") if _text(u)]


def _walk(element: ET.Element, tree: _Tree, branch_type: str) -> None:
    for child in element:
        name = local_name(child.tag)
        if name == "Branch":
            _walk(child, tree, child.get("Type", ""))
        elif name == "FullProductName":
            pid = child.get("ProductID", "")
            cpe = child.get("CPE", "")
            tree.names.setdefault(pid, []).append(_text(child))
            tree.cpes.setdefault(pid, []).append(cpe)
            if branch_type == "Product Name":
                tree.platforms[pid] = cpe
            elif cpe:
                tree.by_cpe.setdefault(cpe, []).append(_text(child))
        elif name == "Relationship":
            for full in _children(child, "FullProductName"):
                tree.relations[full.get("ProductID", "")] = (
                    child.get("ProductReference", ""),
                    child.get("RelatesToProductReference", ""),
                )


def _vulnerability(element: ET.Element) -> _Vulnerability:
    cve = _child_text(element, "CVE")
    if cve and not _CVE.match(cve):
        raise ValueError(f"CVE {cve!r} is not a CVE id")
    statuses: dict[str, list[str]] = {}
    for group in _children(element, "ProductStatuses"):
        for status in _children(group, "Status"):
            kind = status.get("Type", "")
            if kind not in _STATUSES:
                raise ValueError(f"Status Type {kind!r} is not a CVRF product status")
            ids = [_text(p) for p in _children(status, "ProductID") if _text(p)]
            statuses.setdefault(kind, []).extend(ids)
    impacts = [
        _child_text(threat, "Description")
        for threats in _children(element, "Threats")
        for threat in _children(threats, "Threat")
        if threat.get("Type") == "Impact" and _child_text(threat, "Description")
    ]
    return _Vulnerability(
        cve=cve,
        statuses=statuses,
        impacts=impacts,
        score=_score(element),
        links=[
            _text(url)
            for refs in _children(element, "References")
            for ref in _children(refs, "Reference")
            for url in _children(ref, "URL")
            if _text(url)
        ],
    )


def _score(element: ET.Element) -> float:
    """The vulnerability's highest v3 base score, else its highest v2 (or CVRF 1.1) one."""
    found: dict[str, list[float]] = {"v3": [], "v2": []}
    for sets in _children(element, "CVSSScoreSets"):
        for score_set in sets:
            kind = local_name(score_set.tag)
            key = {"ScoreSetV3": "BaseScoreV3", "ScoreSetV2": "BaseScoreV2"}.get(kind, "BaseScore")
            text = _child_text(score_set, key)
            if not text:
                continue
            try:
                value = float(text)
            except ValueError as exc:
                raise ValueError(f"{kind} {key} {text!r} is not a number") from exc
            found["v3" if kind == "ScoreSetV3" else "v2"].append(value)
    return max(found["v3"] or found["v2"], default=0.0)


def _record(head: dict[str, Any], tree: _Tree, vulnerabilities: list[_Vulnerability]) -> VulnRecord:
    doc_id = str(head.get("id") or "")
    suse_cve = _SUSE_CVE_DOC.match(doc_id)
    if suse_cve:  # one CVE's document: named as other CVE-named documents are
        doc_id = suse_cve.group(1)
    if not doc_id:
        raise ValueError("DocumentTracking/Identification/ID is missing")
    cves = [v.cve for v in vulnerabilities if v.cve]
    ranges: list[AffectedRange] = []
    resolved: list[dict[str, Any]] = []
    for vulnerability in vulnerabilities:
        for kind, ids in vulnerability.statuses.items():
            for pid in ids:
                for package in _packages(pid, tree):
                    one = _range(kind, package)
                    if one is not None:
                        ranges.append(one)
                        resolved.append({"status": kind, "product": pid, **package.__dict__})
    impacts = [word for v in vulnerabilities for word in v.impacts]
    ranked = sorted(
        impacts, key=lambda w: _SEVERITIES.index(w.lower()) if w.lower() in _SEVERITIES else 99
    )
    raw = {
        "id": doc_id,
        "title": head.get("title", ""),
        "initial_release_date": head.get("initial", ""),
        "current_release_date": head.get("current", ""),
        "notes": head["notes"],
        "vulnerabilities": [v.__dict__ for v in vulnerabilities],
        "products": resolved,
    }
    references = [("CVE", cve) for cve in cves]
    references += [("web", link) for v in vulnerabilities for link in v.links]
    return VulnRecord(
        vuln_id=f"CVRF:{doc_id}" if _CVE.match(doc_id) else doc_id,
        source="cvrf",
        summary=str(head.get("title", "")),
        published=parse_timestamp(head.get("initial"), name="InitialReleaseDate"),
        modified=parse_timestamp(
            head.get("current") or head.get("initial"), name="CurrentReleaseDate"
        ),
        raw=raw_json(raw),
        score=max((v.score for v in vulnerabilities), default=0.0),
        severity=ranked[0] if ranked else str(head["notes"].get("Severity", "")),
        url=head["urls"][0] if head["urls"] else "",
        references=tuple(dict.fromkeys(references)),
        ranges=tuple(dict.fromkeys(ranges)),
    )


def _packages(pid: str, tree: _Tree) -> Iterator[_Package]:
    """The packages a status product id names, each on its stream."""
    if pid in tree.relations:
        component, platform = tree.relations[pid]
        texts = [*tree.names.get(component, []), component]
        split = next((s for s in map(_split, texts) if s is not None), None)
        if split is None:  # a bare package name (no version): every version
            yield _Package(platform, _strip(component)[0], "", "")
        else:
            yield _Package(platform, *split)
    elif tree.platforms.get(pid):
        for text in tree.by_cpe.get(tree.platforms[pid], []):
            split = _split(text)
            if split is not None:
                yield _Package(pid, *split)


def _strip(text: str) -> tuple[str, str]:
    """``text`` without a trailing ``.rpm`` and ``.<arch>``, and that arch."""
    base = text.strip().removesuffix(".rpm")
    stem, dot, arch = base.rpartition(".")
    return (stem, arch) if dot and arch in _ARCHES else (base, "")


def _split(text: str) -> tuple[str, str, str] | None:
    """(name, version-release, arch) of a package file or NVR, or None for a bare name."""
    base, arch = _strip(text)
    parts = base.rsplit("-", 2)
    if len(parts) != 3 or not all(parts) or not all(_DIGIT.search(p) for p in parts[1:]):
        return None
    name, version, release = parts
    return name, f"{version}-{release}", arch


def _range(kind: str, package: _Package) -> AffectedRange | None:
    criteria = f"osv:{package.stream}/{package.name}"
    vr = package.vr
    if kind in ("Fixed", "First Fixed") and vr:
        return AffectedRange.checked(criteria, end=vr, end_excluded=True)
    if kind == "First Affected" and vr:
        return AffectedRange.checked(criteria, start=vr)
    if kind == "Last Affected" and vr:
        return AffectedRange.checked(criteria, end=vr)
    if kind in ("Known Affected", "First Affected", "Last Affected"):
        return AffectedRange(criteria)
    if kind == "Known Not Affected" and not (package.arch == "src" and vr):
        return AffectedRange.statement(criteria)
    return None
