"""A repository's advisories: ``updateinfo.xml`` of yum/dnf repository metadata.

Every RPM distribution with errata publishes them beside its packages, in the
``updateinfo`` file that ``repodata/repomd.xml`` lists (Rocky, Alma, Fedora, Amazon
Linux, openEuler, openSUSE; ``dnf updateinfo`` reads the same file). One ``<update>``
element per advisory:

    <update from="releng@rockylinux.org" status="final" type="security" version="2">
      <id>RLSA-2021:2575</id> <title>Moderate: lz4 security update</title>
      <issued date="2021-07-22 03:13:55"/> <updated date="2021-06-29 00:00:00"/>
      <release>Rocky Linux 8</release> <severity>Moderate</severity>
      <references><reference type="cve" id="CVE-2021-3520" href="..."/></references>
      <pkglist><collection short="RL8"><name>Rocky Linux 8</name>
        <package name="lz4" epoch="0" version="1.8.3" release="3.el8_4" arch="x86_64"
                 src="lz4-1.8.3-3.el8_4.src.rpm"><filename>...</filename></package>
      </collection></pkglist>
    </update>

One record per advisory, named by its ``<id>`` (the id the distribution's OSV copy
has, so the two name the same advisory; this one, whose builds carry their epochs,
outranks the copy: ``ingest.vulns.SOURCE_RANK``). Its ranges are those of
``fixed_builds``: each binary and source name of a collection is affected below its
fixed build, in the stream the advisory names: its ``<release>`` (``Rocky Linux 8``),
else the collection's ``<name>`` (``Amazon Linux 2``), else its ``short`` name, written
as OSV names ecosystems when it ends in a version (``Rocky Linux:8``, as Rocky's OSV
copy of the same advisory has it, so that either record matches the same mapping). A
module collection of Rocky (``none-appstream-rpms__ruby``) thus shares the release's
stream. A release without a version (``openEuler``, say, whose advisories keep their
ids across releases) is refused, record by record: the second release loaded would
replace the first one's ranges, and its branches would be judged by another release's
builds. Advisories of every type are read (security,
bugfix, enhancement), as the OSV copies have them; the type is kept in the raw record.

Dates are ``YYYY-MM-DD[ HH:MM[:SS]]`` (UTC) or epoch seconds (openSUSE). Any other
metadata file is not an updateinfo document: it is refused, naming its root element.
A directory walk takes only files whose names hold ``updateinfo``
(``repodata/<checksum>-updateinfo.xml.gz``), so a ``repodata`` directory can be given
as it is; a ``repomd.xml`` (``updateinfo_location``) is followed to the file it names
by the loader (``ingest.vuln_repomd``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from xml.etree import ElementTree as ET

from repotrack.errors import InputError
from repotrack.sources.vulns.fixed_builds import FixedBuild, fixed_ranges, source_build
from repotrack.sources.vulns.records import (
    RecordProblem,
    VulnRecord,
    epoch_time,
    raw_json,
    store_time,
)
from repotrack.sources.xmlstream import iter_elements, local_name, root_name

__all__ = ["UpdateinfoLocation", "parse_updateinfo", "updateinfo_location"]

_ROOT: Final = "updates"
#: A location outside the repository's base: absolute, with a scheme, or with ``..``.
_OUTSIDE: Final = re.compile(r"^/|^[A-Za-z][\w+.-]*:|(^|/)\.\.(/|$)|\\")
#: ``Rocky Linux 8``, ``Amazon Linux 2``, ``Fedora 39``: a name, a space, a version.
_NAMED_RELEASE: Final = re.compile(r"(?P<name>.*\S) (?P<version>\d+(?:\.\d+)*)")
#: AlmaLinux's repository name as a collection names it,
#: ``almalinux-9-for-x86_64-baseos-rpms__9_1_default``: the major after ``__``.
_ALMA_REPOSITORY: Final = re.compile(r"almalinux-.*__(?P<major>\d+)(?:_|$)")


def parse_updateinfo(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """One record per ``<update>`` of an ``updateinfo.xml`` document."""
    root = root_name(data, name=path)
    if root not in (_ROOT, None):
        raise InputError(
            f"not an updateinfo document (its root element is <{root}>, not <{_ROOT}>)",
            path=path,
        )
    elements = iter_elements(io.BytesIO(data), name=path, tags=frozenset({"update"}))
    for index, element in enumerate(elements):
        try:
            yield _record(element)
        except ValueError as exc:
            label = _text(element, "id") or f"update[{index}]"
            yield RecordProblem(f"{path} ({label})", str(exc))


def _text(element: ET.Element, name: str) -> str:
    found = _child(element, name)
    return (found.text or "").strip() if found is not None else ""


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if local_name(c.tag) == name), None)


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if element is None else [c for c in element if local_name(c.tag) == name]


def _record(element: ET.Element) -> VulnRecord:
    advisory = _text(element, "id")
    if not advisory:
        raise ValueError("the update has no <id>")
    issued = _date(element, "issued")
    when = _child(element, "updated")
    updated = _date(element, "updated") if when is not None and when.get("date") else None
    references: list[tuple[str, str]] = []
    url = ""
    refs = [dict(r.attrib) for r in _children(_child(element, "references"), "reference")]
    for ref in refs:
        kind, ref_id, href = (ref.get(k, "").strip() for k in ("type", "id", "href"))
        if kind.lower() == "cve" and ref_id.startswith("CVE-"):
            references.append(("CVE", ref_id))
        elif href:
            references.append(("web", href))
            if kind.lower() == "self" and not url:
                url = href
    release = _text(element, "release")
    collections: list[dict[str, Any]] = []
    #: Per stream: collections of one stream (one per architecture, say) fix a name once.
    streams: dict[str, list[FixedBuild]] = {}
    for collection in _children(_child(element, "pkglist"), "collection"):
        name, short = _text(collection, "name"), collection.get("short", "").strip()
        stream = _stream(_release(release, name, short))
        if not stream:
            raise ValueError("a collection names no release (<release>, <name> or short=)")
        if not any(c.isdigit() for c in stream):
            raise ValueError(
                f"the release {stream!r} has no version: the updates of another release, "
                "with the same ids, would replace these (for openEuler, load its CVRF "
                "advisories: source cvrf)"
            )
        packages = [_package(p) for p in _children(collection, "package")]
        builds = streams.setdefault(stream, [])
        for package in packages:
            epoch = package["epoch"]
            builds.append((package["name"], epoch, package["version"], package["release"]))
            source = source_build(package.get("src", ""), epoch)
            if source is not None:
                builds.append(source)
        modules = [dict(m.attrib) for m in _children(collection, "module")]
        collections.append(
            {"short": short, "name": name, "stream": stream, "modules": modules,
             "packages": [_nevra(p) for p in packages],
             "sources": sorted({p["src"] for p in packages if p.get("src")})}
        )  # fmt: skip
    ranges = [r for stream, builds in streams.items() for r in fixed_ranges(stream, builds)]
    raw = {
        **element.attrib,
        "id": advisory,
        "title": _text(element, "title"),
        "release": release,
        "severity": _text(element, "severity"),
        "issued": issued.isoformat(),
        "updated": updated.isoformat() if updated else "",
        "summary": _text(element, "summary"),
        "description": _text(element, "description"),
        "references": refs,
        "pkglist": collections,
    }
    severity = _text(element, "severity")
    return VulnRecord(
        vuln_id=advisory,
        source="updateinfo",
        summary=_text(element, "title") or _text(element, "summary"),
        published=issued,
        modified=max(issued, updated) if updated else issued,
        raw=raw_json(raw),
        severity="" if severity.lower() == "none" else severity,
        url=url,
        references=tuple(dict.fromkeys(references)),
        ranges=tuple(ranges),
    )


def _release(release: str, name: str, short: str) -> str:
    """The release a collection belongs to. AlmaLinux writes ``<release>0</release>`` in
    every advisory of every major release, a number that names no release: its
    collection's repository name (``almalinux-9-for-x86_64-baseos-rpms__9_1_default``)
    gives ``AlmaLinux 9``, the stream of Alma's OSV copy and of its errata JSON (the
    ``almalinux`` source reads the same ``__9``). Taken as written, ``0`` made a stream
    of its own that no branch mapped to ``AlmaLinux:9`` matched, so dnf found advisories
    applicable where repotrack said nothing. Another release that is a bare number
    gives way to the collection's name."""
    if release and not release.isdigit():
        return release
    for text in (short, name):
        found = _ALMA_REPOSITORY.match(text)
        if found is not None:
            return f"AlmaLinux {found['major']}"
    return name or short or release


def _stream(text: str) -> str:
    """The stream's name as OSV writes it: ``Rocky Linux 8`` becomes ``Rocky Linux:8``
    (the ecosystem of Rocky's and Alma's OSV copies, whose records this source
    replaces); a name that does not end in a version is kept as it is."""
    found = _NAMED_RELEASE.fullmatch(text)
    return f"{found['name']}:{found['version']}" if found else text


def _nevra(package: dict[str, str]) -> str:
    """``name-epoch:version-release.arch``: how the raw record lists a package (a list
    of strings, not of objects: an advisory of a few hundred builds is read and hashed
    at every load)."""
    arch = package.get("arch", "")
    evr = f"{package['epoch']}:{package['version']}-{package['release']}"
    return f"{package['name']}-{evr}.{arch}" if arch else f"{package['name']}-{evr}"


def _package(element: ET.Element) -> dict[str, str]:
    """A ``<package>``'s fields; name, version and release are required, the epoch is
    ``0`` when absent."""
    package = dict(element.attrib)
    for field in ("name", "version", "release", "epoch"):
        value = package.get(field, "").strip()
        if not value and field != "epoch":
            raise ValueError(f"a <package> has no {field}= ({package.get('name', '?')})")
        package[field] = value or "0"
    return package


def _date(element: ET.Element, name: str) -> datetime:
    """``<issued date="...">``: ``YYYY-MM-DD[ HH:MM[:SS]]`` taken as UTC, or epoch
    seconds."""
    node = _child(element, name)
    text = (node.get("date", "") if node is not None else "").strip()
    if text.isdigit():
        return epoch_time(int(text))
    try:
        when = datetime.fromisoformat(text.removesuffix(" UTC"))
    except ValueError:
        raise ValueError(f"<{name} date={text!r}> is not a date") from None
    return store_time(when)


@dataclass(frozen=True)
class UpdateinfoLocation:
    """Where ``repomd.xml`` says the repository's updateinfo is, relative to the
    repository's base (``repodata/<checksum>-updateinfo.xml.gz``), and the checksum of
    that file as stored (``sha256``, ``sha1``/``sha``, ``sha512``, ``md5``; empty when
    not given)."""

    href: str
    checksum_type: str = ""
    checksum: str = ""


def updateinfo_location(repomd: bytes, *, path: str) -> UpdateinfoLocation | None:
    """The updateinfo entry of a ``repomd.xml`` (None: the repository has none). Its
    location must stay inside the repository (a service reads what it names)."""
    root = root_name(repomd, name=path)
    if root != "repomd":
        raise InputError(f"not a repomd.xml (its root element is <{root}>)", path=path)
    for data in iter_elements(io.BytesIO(repomd), name=path, tags=frozenset({"data"})):
        if data.get("type") != "updateinfo":
            continue
        location = _child(data, "location")
        href = location.get("href", "").strip() if location is not None else ""
        if not href:
            raise InputError("the updateinfo entry has no <location href>", path=path)
        if _OUTSIDE.search(href):
            raise InputError(
                f"the updateinfo entry's <location href={href!r}> leaves the repository",
                path=path,
            )
        checksum = _child(data, "checksum")
        kind = checksum.get("type", "").strip().lower() if checksum is not None else ""
        digest = (checksum.text or "").strip().lower() if checksum is not None else ""
        return UpdateinfoLocation(href, "sha1" if kind == "sha" else kind, digest)
    return None
