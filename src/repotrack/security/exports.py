"""One branch's vulnerability state written as OSV records or CSAF 2.0 VEX documents.

Both exports write one file per vulnerability that has a verdict in the branch
(reference/vuln-formats.md §10):

- **OSV**: id ``<prefix>-<branch>-<vuln id>`` (file name: the id with characters other
  than letters, digits, ``._+-`` replaced by ``_``) (the prefix must be ``x_``-something or a
  registered home database), the CVE in ``upstream``; one ``affected`` entry per
  source package with an ``ECOSYSTEM`` range ``introduced 0`` and, when the package is
  fixed, ``fixed`` at the package's ``E:V-R`` (the build that carries the fix, upstream
  or backported). Packages judged not affected are left out; the verdict and its
  evidence go into ``database_specific``. OSV only knows registered ecosystems (ALT
  Linux is not one), so the ecosystem is a setting and the export refuses without it.
- **CSAF VEX**: ``document.category csaf_vex``; product tree vendor → product name (the
  branch) and the packages as ``product_version`` entries with an rpm purl, joined by
  ``default_component_of``; the product status lists ``fixed``, ``known_affected``
  (with a ``none_available`` remediation) and ``known_not_affected`` (with an impact
  statement quoting the evidence). File name: the tracking id lower-cased, runs of
  other characters than ``+``, ``-``, a-z and 0-9 replaced by ``_``, plus ``.json``.
  Its version and revision history are the stored ones (``csaf_revisions``): a
  document whose content changed since its last export gets the next version.

Packages carry purls ``pkg:rpm/<vendor>/<name>`` (``package_url``): the vendor is a
setting, the branch the ``distro`` qualifier.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from repotrack.errors import InputError, NotFoundError
from repotrack.security.csaf_revisions import revise
from repotrack.security.queries import Verdict, branch_verdicts
from repotrack.security.set_sources import set_sources
from repotrack.store.base import Store
from repotrack.store.branches import branch_name
from repotrack.store.queries import find_package_set

__all__ = [
    "EXPORT_FORMATS",
    "Advisory",
    "collect_advisories",
    "csaf_documents",
    "export_branch",
    "to_csaf",
    "to_osv",
]

EXPORT_FORMATS: Final = ("osv", "csaf")
#: The purl namespace by default: ALT's vendor id (os-release ``ID=altlinux``), as the
#: OVAL export's release package defaults to ``alt-release``.
DEFAULT_PURL_VENDOR: Final = "altlinux"
OSV_SCHEMA_VERSION: Final = "1.7.5"
_OSV_PREFIX: Final = re.compile(r"^x_[A-Za-z0-9_.]+$|^[A-Z][A-Za-z-]*$")
_FILE_CHARS: Final = re.compile(r"[^+\-a-z0-9]+")
#: The numbering system of an id: its leading words of letters (``BDU`` of
#: ``BDU:2024-01234``, ``ALT-SA`` of ``ALT-SA-2024-1234``, ``GHSA`` of ``GHSA-jfh8-…``).
_ID_SYSTEM: Final = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*(?=[-:])")
_FILE_CHARS_OSV: Final = re.compile(r"[^A-Za-z0-9._+\-]+")


@dataclass
class Advisory:
    """One vulnerability and the branch's verdicts about it."""

    vuln_id: str
    summary: str
    url: str
    published: datetime
    modified: datetime
    references: list[tuple[str, str]]
    verdicts: list[Verdict] = field(default_factory=list)
    epochs: dict[int, int] = field(default_factory=dict)

    def evr(self, verdict: Verdict) -> str:
        return f"{self.epochs.get(verdict.pkg_hash, 0)}:{verdict.version}-{verdict.release}"


def collect_advisories(store: Store, *, branch: str) -> list[Advisory]:
    """Every vulnerability with a decided verdict in ``branch``, with those verdicts."""
    verdicts = [
        v for v in branch_verdicts(store, branch=branch, status="") if v.status != "unknown"
    ]
    if not verdicts:
        raise NotFoundError(f"branch {branch} has no verdicts; run `repotrack vulns match` first")
    by_vuln: dict[str, list[Verdict]] = defaultdict(list)
    for verdict in verdicts:
        by_vuln[verdict.vuln_id].append(verdict)
    rows = store.query(
        "SELECT vuln_id, argMax(vuln_summary, ts), argMax(vuln_url, ts), "
        "argMax(vuln_published_date, ts), argMax(vuln_modified_date, ts), "
        "argMax(vuln_references.type, ts), argMax(vuln_references.link, ts) "
        "FROM Vulnerabilities WHERE vuln_id IN {ids:Array(String)} GROUP BY vuln_id",
        {"ids": sorted(by_vuln)},
    )
    known = {str(r[0]): r for r in rows}
    epochs = _epochs(store, branch, sorted({v.pkg_hash for v in verdicts}))
    advisories = []
    for vuln_id, found in sorted(by_vuln.items()):
        _, summary, url, published, modified, kinds, links = known.get(
            vuln_id, (vuln_id, "", "", _EPOCH, _EPOCH, [], [])
        )
        advisories.append(
            Advisory(
                vuln_id=vuln_id,
                summary=str(summary),
                url=str(url),
                published=published,
                modified=max(modified, max(v.updated for v in found)),
                references=list(zip(kinds, links, strict=True)),
                verdicts=found,
                epochs=epochs,
            )
        )
    return advisories


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _epochs(store: Store, branch: str, hashes: list[int]) -> dict[int, int]:
    """The epochs of the verdicts' packages: stored source packages, and the stand-ins
    of the branch's newest set (``set_sources``: a binary's source RPM the set lacks),
    which no ``Packages`` row holds."""
    root = find_package_set(store, branch=branch).uuid
    sql = f"""
        SELECT pkg_hash, any(pkg_epoch) FROM Packages_buffer
        WHERE pkg_hash IN {{h:Array(UInt64)}} GROUP BY pkg_hash
        UNION ALL
        SELECT pkg_hash, pkg_epoch FROM ({set_sources("root")})
        WHERE pkg_hash IN {{h:Array(UInt64)}}
    """  # noqa: S608
    rows = store.query(sql, {"h": hashes, "root": root})
    return {int(h): int(e) for h, e in rows}


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _evidence(verdict: Verdict) -> list[dict[str, str]]:
    return [{"kind": e.kind, "ref": e.ref, "detail": e.detail} for e in verdict.evidence]


# -- OSV ------------------------------------------------------------------------------


def to_osv(
    advisory: Advisory,
    *,
    branch: str,
    ecosystem: str,
    prefix: str,
    purl_vendor: str = DEFAULT_PURL_VENDOR,
) -> dict[str, Any]:
    """The OSV record of one vulnerability in one branch."""
    affected = []
    for verdict in advisory.verdicts:
        if verdict.status not in ("vulnerable", "fixed"):
            continue
        events: list[dict[str, str]] = [{"introduced": "0"}]
        if verdict.status == "fixed":
            events.append({"fixed": advisory.evr(verdict)})
        affected.append(
            {
                "package": {
                    "ecosystem": ecosystem,
                    "name": verdict.pkg_name,
                    "purl": package_url(purl_vendor, verdict.pkg_name, branch=branch),
                },
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
                "database_specific": {
                    "status": verdict.status,
                    "reason": verdict.reason,
                    "evidence": _evidence(verdict),
                },
            }
        )
    record: dict[str, Any] = {
        "schema_version": OSV_SCHEMA_VERSION,
        "id": f"{prefix}-{branch}-{advisory.vuln_id}",
        "modified": _stamp(advisory.modified),
        "published": _stamp(advisory.published),
        "summary": advisory.summary[:200],
        "details": advisory.summary,
        "affected": affected,
        "references": [
            {"type": "ADVISORY" if kind == "web" else "WEB", "url": link}
            for kind, link in advisory.references
            if link.startswith(("http://", "https://"))
        ],
    }
    if advisory.vuln_id.startswith("CVE-"):
        record["upstream"] = [advisory.vuln_id]
    return record


def _purl_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]", lambda m: f"%{ord(m.group()):02X}", text)


def package_url(
    vendor: str,
    name: str,
    *,
    branch: str,
    version: str = "",
    release: str = "",
    arch: str = "",
    epoch: int = 0,
) -> str:
    """The purl of a package of ``branch``, as the purl spec's ``rpm`` type has it.

    The namespace is the vendor (``fedora``, ``redhat``, ALT's ``altlinux``: what
    scanners such as syft put in an SBOM, from os-release's ``ID``) and the release is
    the ``distro`` qualifier, ``<vendor>-<branch>`` as Rocky's OSV records write
    ``rocky-linux-9``. Qualifiers go sorted by key; ``epoch`` only when not 0. Before
    2026-12-07 the branch was the namespace, which no SBOM's purl ever matched.
    """
    path = f"pkg:rpm/{_purl_part(vendor)}/{_purl_part(name)}"
    if version:
        path += f"@{_purl_part(version)}-{_purl_part(release)}"
    qualifiers = {
        "arch": arch,
        "distro": f"{vendor}-{branch}",
        "epoch": str(epoch) if epoch else "",
    }
    query = "&".join(f"{k}={_purl_part(v)}" for k, v in sorted(qualifiers.items()) if v)
    return f"{path}?{query}"


# -- CSAF VEX -------------------------------------------------------------------------


def to_csaf(
    advisory: Advisory,
    *,
    branch: str,
    publisher: str,
    namespace: str,
    purl_vendor: str = DEFAULT_PURL_VENDOR,
) -> dict[str, Any]:
    """The CSAF 2.0 VEX document of one vulnerability in one branch."""
    products, relationships = [], []
    status: dict[str, list[str]] = defaultdict(list)
    statements: list[dict[str, Any]] = []
    for verdict in advisory.verdicts:
        component = f"{verdict.pkg_name}-{advisory.evr(verdict)}"
        full_id = f"{branch}:{component}"
        products.append(
            {
                "category": "product_version",
                "name": component,
                "product": {
                    "name": component,
                    "product_id": component,
                    "product_identification_helper": {
                        "purl": package_url(
                            purl_vendor,
                            verdict.pkg_name,
                            branch=branch,
                            version=verdict.version,
                            release=verdict.release,
                            arch="src",
                            epoch=advisory.epochs.get(verdict.pkg_hash, 0),
                        )
                    },
                },
            }
        )
        relationships.append(
            {
                "category": "default_component_of",
                "full_product_name": {"name": f"{component} in {branch}", "product_id": full_id},
                "product_reference": component,
                "relates_to_product_reference": branch,
            }
        )
        key = {"fixed": "fixed", "vulnerable": "known_affected"}.get(
            verdict.status, "known_not_affected"
        )
        status[key].append(full_id)
        if key == "known_not_affected":
            details = "; ".join(f"{e.kind}: {e.ref} {e.detail}".strip() for e in verdict.evidence)
            statements.append(
                {
                    "category": "impact",
                    "details": details or verdict.reason,
                    "product_ids": [full_id],
                }
            )
    tracking_id = f"{branch}-{advisory.vuln_id}"
    vulnerability: dict[str, Any] = {
        "notes": [{"category": "summary", "text": advisory.summary or advisory.vuln_id}],
        "product_status": {k: sorted(set(v)) for k, v in status.items()},
    }
    if advisory.vuln_id.startswith("CVE-"):
        vulnerability["cve"] = advisory.vuln_id
    else:
        system = _ID_SYSTEM.match(advisory.vuln_id)
        name = system.group() if system else advisory.vuln_id.split("-")[0]
        vulnerability["ids"] = [{"system_name": name, "text": advisory.vuln_id}]
    if status.get("known_affected"):
        vulnerability["remediations"] = [
            {
                "category": "none_available",
                "details": "No fixed build in this branch yet.",
                "product_ids": sorted(set(status["known_affected"])),
            }
        ]
    if statements:
        vulnerability["threats"] = statements
    if advisory.published != _EPOCH:  # a stored record's publication, not a stand-in
        vulnerability["release_date"] = _stamp(advisory.published)
    # The document is the branch's state at ``modified``, its one revision; the record's
    # publication is the vulnerability's release date. An initial release date before the
    # oldest revision fails CSAF 2.0 §6.2.5 (older initial release date than revision
    # history).
    now = _stamp(advisory.modified)
    document: dict[str, Any] = {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "publisher": {"category": "vendor", "name": publisher, "namespace": namespace},
            "title": f"{advisory.vuln_id} in {branch}",
            "tracking": {
                "current_release_date": now,
                "id": tracking_id,
                "initial_release_date": now,
                "revision_history": [
                    {"date": now, "number": "1", "summary": "State of the branch."}
                ],
                "status": "final",
                "version": "1",
            },
        },
        "product_tree": {
            "branches": [
                {
                    "category": "vendor",
                    "name": publisher,
                    "branches": [
                        {
                            "category": "product_name",
                            "name": branch,
                            "product": {"name": branch, "product_id": branch},
                        },
                        {"category": "architecture", "name": "src", "branches": products},
                    ],
                }
            ],
            "relationships": relationships,
        },
        "vulnerabilities": [vulnerability],
    }
    return _sorted_keys(document)


def _sorted_keys(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the keys of every object in alphabetical order.

    CSAF 2.0 §6.2.13 (recommended test "Sorting") wants every key of a document sorted;
    the validators compare with a locale collator, which agrees with code point order for
    the keys of a CSAF document (lower-case letters and ``_``, no digit after a shared
    prefix). Sorted here rather than when writing, so the REST export is sorted too.
    """
    return {key: _sorted_value(document[key]) for key in sorted(document)}


def _sorted_value(value: Any) -> Any:
    if isinstance(value, dict):
        return _sorted_keys(value)
    if isinstance(value, list):
        return [_sorted_value(item) for item in value]
    return value


def csaf_documents(
    store: Store,
    advisories: list[Advisory],
    *,
    branch: str,
    publisher: str,
    namespace: str,
    purl_vendor: str = DEFAULT_PURL_VENDOR,
) -> list[dict[str, Any]]:
    """The CSAF VEX documents of ``advisories``, each with its stored version and
    revision history: a document whose content changed since its last export gets
    the next version (``csaf_revisions``)."""
    documents = [
        to_csaf(
            advisory,
            branch=branch,
            publisher=publisher,
            namespace=namespace,
            purl_vendor=purl_vendor,
        )
        for advisory in advisories
    ]
    revise(store, documents)
    return documents


def _write_json(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def csaf_file_name(tracking_id: str) -> str:
    return _FILE_CHARS.sub("_", tracking_id.lower()) + ".json"


# -- writing --------------------------------------------------------------------------


def export_branch(
    store: Store,
    *,
    branch: str,
    fmt: str,
    out: Path,
    ecosystem: str = "",
    prefix: str = "x_repotrack",
    publisher: str = "repotrack",
    namespace: str = "https://repotrack.invalid",
    purl_vendor: str = DEFAULT_PURL_VENDOR,
) -> list[Path]:
    """Write one file per vulnerability of ``branch`` into ``out``; returns the files."""
    branch = branch_name(branch)
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"must be one of {', '.join(EXPORT_FORMATS)}", field="format")
    if fmt == "osv" and not ecosystem:
        raise InputError(
            f"branch {branch} has no OSV ecosystem (set vulns.osv_ecosystems.{branch}); "
            "OSV accepts only registered ecosystems",
            field="ecosystem",
        )
    if fmt == "osv" and not _OSV_PREFIX.match(prefix):
        raise InputError("an OSV id prefix is x_<name> or a registered database", field="prefix")
    advisories = collect_advisories(store, branch=branch)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if fmt == "osv":
        for advisory in advisories:
            document = to_osv(
                advisory, branch=branch, ecosystem=ecosystem, prefix=prefix, purl_vendor=purl_vendor
            )
            if document["affected"]:
                path = out / f"{_FILE_CHARS_OSV.sub('_', document['id'])}.json"
                written.append(_write_json(path, document))
        return written
    for document in csaf_documents(
        store,
        advisories,
        branch=branch,
        publisher=publisher,
        namespace=namespace,
        purl_vendor=purl_vendor,
    ):
        path = out / csaf_file_name(document["document"]["tracking"]["id"])
        written.append(_write_json(path, document))
    return written
