"""OVAL 5.x definitions for RPM distributions: Red Hat, SUSE, Oracle (vuln-formats.md §7).

The file is read as a stream (``xmlstream``: no DTD, so no entity expansion);
``rpminfo`` tests, objects and states are collected, then each ``definition`` becomes
one record:

- id: for a ``patch`` definition its advisory reference (``ELSA-2007-0057``,
  ``RHSA-2019:3927``, ``SUSE-SU-2018:2426-1``; bug references, which SUSE lists first,
  are no advisory); for a ``vulnerability`` definition ``OVAL:<CVE>`` (so that it
  never replaces the NVD record of the CVE), else ``OVAL:<definition id>``. CVE
  references (``reference@source="CVE"``, or "CVE-… at NVD" text) become ``CVE``
  references. ``deprecated="true"`` definitions are kept and marked rejected.
- stream: the advisory's first ``affected_cpe_list/cpe``, else the first
  ``affected/platform`` (SUSE's definitions, ``oval:org.opensuse.security:…``: the
  platform first, ``openSUSE Tumbleweed`` rather than ``cpe:/o:opensuse:tumbleweed``,
  the name its CVRF and its multi-product definitions give the same product); every
  package range of the definition uses it, as ``osv:<stream>/<package>``. Except when
  the criteria group packages under two or more platforms (a Red Hat definition covering
  RHEL 8 and RHEL 9, a SUSE one covering several products): then each package test takes
  the platform of its own group, the release-package criterion beside it ("Red Hat
  Enterprise Linux 8 is installed", "SUSE Linux Enterprise Server 15 SP1 is installed":
  the comment without "is installed", which is how ``affected/platform`` names it too; a
  group of several such criteria under OR gives its packages every one of them). Tests
  outside every platform group keep the definition's stream.
- each criterion's test: a state ``evr`` / ``version`` with ``less than`` → affected
  below that EVR (end excluded); a ``version equals 0`` state or a comment "… is not
  affected" → a not-affected statement; a test with no state in a ``vulnerability``
  definition ("… is installed") → every version affected. Platform tests (objects named
  ``*-release``, file checks, module-stream checks) and signature-key states only
  constrain the host and are skipped; so is a release-package test of the host's
  architecture (Oracle's "Oracle Linux arch is x86_64"), which names no platform.
- a package test that holds only when the package is absent (``check_existence=
  "none_exist"``, "… is not installed") beside an "is installed" test of the same
  package in one AND group can never hold: Red Hat writes its "Unaffected components"
  definitions so, and the pair is a not-affected statement. A package test whose state
  checks the release against a pattern (Oracle's "openssl is ksplice-based") restricts
  the group to builds no version range describes: its package gets no range from that
  group rather than one that would hold every other build below the bound.

A definition that points at a missing test, object or state, or uses an operation
outside the OVAL vocabulary, is reported as a ``RecordProblem``; the others load.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final
from xml.etree import ElementTree as ET

from repotrack.errors import InputError
from repotrack.sources.vulns.records import (
    EPOCH_START,
    AffectedRange,
    RecordProblem,
    VulnRecord,
    parse_timestamp,
    raw_json,
)
from repotrack.sources.xmlstream import iter_elements, local_name

__all__ = ["parse_oval"]

_OPERATIONS: Final = frozenset(
    {
        "equals",
        "not equal",
        "case insensitive equals",
        "case insensitive not equal",
        "greater than",
        "less than",
        "greater than or equal",
        "less than or equal",
        "bitwise and",
        "bitwise or",
        "pattern match",
        "subset of",
        "superset of",
    }
)
_CVE: Final = re.compile(r"CVE-\d{4}-\d{4,}")
_TAGS: Final = frozenset(
    {
        "definition",
        "rpminfo_test",
        "rpmverifyfile_test",
        # Host checks beside the package tests (module streams, the running kernel):
        # read so that a criterion naming one is no "missing test".
        "rpmverifypackage_test",
        "textfilecontent54_test",
        "textfilecontent_test",
        "uname_test",
        "family_test",
        "rpminfo_object",
        "rpminfo_state",
        "generator",
    }
)


@dataclass
class _State:
    operation: str = ""
    value: str = ""
    kind: str = ""  # evr, version, signature; else the entity checked (release, arch)


@dataclass
class _Tables:
    tests: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # id → (tag, obj, state)
    absent: set[str] = field(default_factory=set)  # tests that hold when no object exists
    objects: dict[str, str] = field(default_factory=dict)
    states: dict[str, _State] = field(default_factory=dict)
    timestamp: datetime = EPOCH_START


@dataclass
class _Group:
    """A ``criteria`` element: its operator and its criteria (test ref, comment) and groups."""

    operator: str
    items: list[_Group | tuple[str, str]] = field(default_factory=list)


@dataclass
class _Definition:
    element_text: dict[str, object]
    klass: str
    def_id: str
    deprecated: bool
    criteria: _Group


def parse_oval(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """The records of one OVAL definitions document."""
    tables = _Tables()
    definitions: list[_Definition] = []
    for element in iter_elements(io.BytesIO(data), name=path, tags=_TAGS):
        tag = local_name(element.tag)
        if tag == "definition":
            definitions.append(_definition(element))
        elif tag == "generator":
            stamp = _child_text(element, "timestamp")
            tables.timestamp = (
                parse_timestamp(stamp, name="generator timestamp") if stamp else EPOCH_START
            )
        elif tag.endswith("_test"):
            obj = _child(element, "object")
            state = _child(element, "state")
            tables.tests[element.get("id", "")] = (
                tag,
                obj.get("object_ref", "") if obj is not None else "",
                state.get("state_ref", "") if state is not None else "",
            )
            if element.get("check_existence") == "none_exist":
                tables.absent.add(element.get("id", ""))
        elif tag == "rpminfo_object":
            tables.objects[element.get("id", "")] = (_child_text(element, "name") or "").strip()
        elif tag == "rpminfo_state":
            tables.states[element.get("id", "")] = _state(element)
    if not definitions:
        raise InputError("no OVAL definitions found", path=path)
    for definition in definitions:
        try:
            yield _record(definition, tables)
        except ValueError as exc:
            yield RecordProblem(f"{path}: {definition.def_id}", str(exc))


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if local_name(c.tag) == name), None)


def _child_text(element: ET.Element, name: str) -> str | None:
    found = _child(element, name)
    return found.text if found is not None else None


def _state(element: ET.Element) -> _State:
    """The state's version or signature entity; else its first entity (a state that
    checks only the release or the architecture), so that such a state is neither
    taken for a version bound nor rejected for lacking an operation."""
    entities = list(element)
    chosen = next(
        (e for e in entities if local_name(e.tag) in ("evr", "version", "signature_keyid")),
        entities[0] if entities else None,
    )
    if chosen is None:
        return _State()
    kind = local_name(chosen.tag)
    return _State(
        operation=chosen.get("operation", "equals"),
        value=(chosen.text or "").strip(),
        kind="signature" if kind == "signature_keyid" else kind,
    )


def _definition(element: ET.Element) -> _Definition:
    metadata = _child(element, "metadata")
    info: dict[str, object] = {"references": [], "platforms": [], "cpes": []}
    if metadata is not None:
        info["title"] = (_child_text(metadata, "title") or "").strip()
        info["description"] = (_child_text(metadata, "description") or "").strip()
        for child in metadata.iter():
            name = local_name(child.tag)
            if name == "reference":
                info["references"].append(  # type: ignore[attr-defined]
                    (child.get("source", ""), child.get("ref_id", ""), child.get("ref_url", ""))
                )
            elif name == "platform" and child.text:
                info["platforms"].append(child.text.strip())  # type: ignore[attr-defined]
            elif name == "cpe" and child.text:
                info["cpes"].append(child.text.strip())  # type: ignore[attr-defined]
            elif name in ("severity", "issued", "updated"):
                info[name] = (child.text or child.get("date") or "").strip()
    top = _child(element, "criteria")
    criteria = _group(top) if top is not None else _Group("AND")
    return _Definition(
        element_text=info,
        klass=element.get("class", ""),
        def_id=element.get("id", ""),
        deprecated=element.get("deprecated") == "true",
        criteria=criteria,
    )


def _group(element: ET.Element) -> _Group:
    group = _Group(element.get("operator", "AND").upper())
    for child in element:
        name = local_name(child.tag)
        if name == "criteria":
            group.items.append(_group(child))
        elif name == "criterion":
            group.items.append((child.get("test_ref", ""), child.get("comment", "")))
    return group


def _record(definition: _Definition, tables: _Tables) -> VulnRecord:
    info = definition.element_text
    references: list[tuple[str, str, str]] = info["references"]  # type: ignore[assignment]
    cves = [ref_id for source, ref_id, _ in references if source.upper() == "CVE"]
    cves += _CVE.findall(" ".join(ref_id for _, ref_id, _ in references))
    cves = list(dict.fromkeys(c for c in cves if _CVE.fullmatch(c)))
    advisories = [
        ref_id
        for source, ref_id, _ in references
        if source.upper() not in _NOT_ADVISORIES and ref_id
    ]
    if definition.klass == "patch" and advisories:
        vuln_id = advisories[0]
    elif len(cves) == 1:
        vuln_id = f"OVAL:{cves[0]}"
    else:
        vuln_id = f"OVAL:{definition.def_id}"
    cpes: list[str] = info["cpes"]  # type: ignore[assignment]
    platforms: list[str] = info["platforms"]  # type: ignore[assignment]
    if definition.def_id.startswith(_SUSE_IDS) and platforms:
        cpes = []  # SUSE: the product's name, as its CVRF and multi-product definitions write it
    stream = (cpes or platforms or ["oval"])[0]
    issued = str(info.get("issued") or "")
    when = _day(issued) or tables.timestamp
    return VulnRecord(
        vuln_id=vuln_id,
        source="oval",
        summary=str(info.get("title", "")),
        published=when,
        modified=_day(str(info.get("updated") or "")) or when,
        raw=raw_json({"id": definition.def_id, "class": definition.klass, **info}),
        severity=str(info.get("severity", "")),
        url=next((url for _, _, url in references if url), ""),
        rejected=definition.deprecated,
        references=tuple(("CVE", c) for c in cves),
        ranges=tuple(dict.fromkeys(_ranges(definition, tables, stream))),
    )


def _day(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text[:10]).replace(tzinfo=UTC)
    except ValueError:
        return None


def _ranges(definition: _Definition, tables: _Tables, stream: str) -> Iterator[AffectedRange]:
    per_group = len(set(_all_platforms(definition.criteria, tables))) >= 2
    yield from _platform_ranges(definition.criteria, definition.klass, tables, [stream], per_group)


#: Reference sources that name no advisory: SUSE's patch definitions cite their bugs
#: (``source="BUGZILLA"``) before the ``SUSE-SU`` advisory, which names the record.
_NOT_ADVISORIES: Final = frozenset({"CVE", "BUGZILLA"})
#: SUSE's definitions (``oval:org.opensuse.security:def:…``, every SUSE and openSUSE file).
_SUSE_IDS: Final = "oval:org.opensuse.security:"

_INSTALLED: Final = re.compile(r"\s+is\s+installed\s*$", re.IGNORECASE)


def _platform(item: tuple[str, str], tables: _Tables) -> str | None:
    """The platform a release-package criterion names, or None for any other criterion."""
    test = tables.tests.get(item[0])
    if test is None or test[0] != "rpminfo_test":
        return None
    name = tables.objects.get(test[1], "")
    if not name.endswith("-release"):
        return None
    state = tables.states.get(test[2])
    if state is not None and state.kind == "arch":
        return None  # the host's architecture (Oracle: "Oracle Linux arch is x86_64")
    label = _INSTALLED.sub("", item[1].strip())
    if not label:
        label = f"{name} {state.value}".strip() if state is not None else name
    return label


def _platforms(group: _Group, tables: _Tables) -> list[str]:
    """The platforms a group's packages run on: its own release-package criteria, and
    those of a child group that holds nothing else (SUSE: OR of products)."""
    labels: list[str] = []
    for item in group.items:
        if isinstance(item, _Group):
            inner = [i for i in item.items if not isinstance(i, _Group)]
            found = [_platform(i, tables) for i in inner]
            if inner and len(inner) == len(item.items) and all(found):
                labels += [label for label in found if label]
        else:
            label = _platform(item, tables)
            if label:
                labels.append(label)
    return list(dict.fromkeys(labels))


def _all_platforms(group: _Group, tables: _Tables) -> Iterator[str]:
    yield from _platforms(group, tables)
    for item in group.items:
        if isinstance(item, _Group):
            yield from _all_platforms(item, tables)


def _platform_ranges(
    group: _Group, klass: str, tables: _Tables, streams: list[str], per_group: bool
) -> Iterator[AffectedRange]:
    """The group's ranges once per platform its packages run on."""
    if per_group:
        streams = _platforms(group, tables) or streams
    first = f"osv:{streams[0]}/"
    for nested, one in _group_ranges(group, klass, tables, streams[0], per_group, streams):
        if nested:  # a nested group's, already placed on its platforms
            yield one
            continue
        name = one.criteria[len(first) :]
        for stream in streams:
            yield dataclasses.replace(one, criteria=f"osv:{stream}/{name}")


def _group_ranges(
    group: _Group,
    klass: str,
    tables: _Tables,
    stream: str,
    per_group: bool = False,
    streams: list[str] | None = None,
) -> Iterator[tuple[bool, AffectedRange]]:
    """The ranges of one criteria group. Inside an AND group a ``greater than`` test of a
    package is the lower bound of that package's ``less than`` range (Azure Linux writes
    ``golang`` earlier than 1.20.7-1 AND greater than 0.0.0); alone it is a range open
    above."""
    lower: dict[str, _State] = {}
    found: list[tuple[str, AffectedRange]] = []
    absent: set[str] = set()  # "… is not installed"
    narrowed: set[str] = set()  # a release pattern no range can hold
    for item in group.items:
        if isinstance(item, _Group):
            for placed in _platform_ranges(item, klass, tables, streams or [stream], per_group):
                yield True, placed
            continue
        resolved = _criterion(item, tables)
        if resolved is None:
            continue
        name, state, comment = resolved
        criteria = f"osv:{stream}/{name}"
        if item[0] in tables.absent:
            absent.add(name)
            continue
        if state is not None and state.kind == "release":
            narrowed.add(name)
            continue
        if state is not None and state.operation in _LOWER and state.kind in ("evr", "version"):
            if group.operator == "AND":
                lower[name] = state
            else:
                found.append((name, _lower_only(criteria, state)))
            continue
        if state is None:
            if "not affected" in comment:
                found.append((name, AffectedRange.statement(criteria)))
            elif klass == "vulnerability":
                found.append((name, AffectedRange(criteria)))
            continue
        one = _range(criteria, state, comment)
        if one is not None:
            found.append((name, one))
    if group.operator == "AND":
        found = [
            (name, AffectedRange.statement(one.criteria) if name in absent else one)
            for name, one in found
            if name not in narrowed
        ]
        for name in narrowed:
            lower.pop(name, None)
    for name, one in found:
        low = lower.pop(name, None)
        if low is not None and not one.not_affected and not one.start:
            one = AffectedRange.checked(
                one.criteria,
                start=low.value,
                start_excluded=low.operation == "greater than",
                end=one.end,
                end_excluded=one.end_excluded,
            )
        yield False, one
    for name, low in lower.items():  # a lower bound with no upper one in the group
        yield False, _lower_only(f"osv:{stream}/{name}", low)


_LOWER: Final = ("greater than", "greater than or equal")


def _lower_only(criteria: str, state: _State) -> AffectedRange:
    return AffectedRange.checked(
        criteria, start=state.value, start_excluded=state.operation == "greater than"
    )


def _criterion(item: tuple[str, str], tables: _Tables) -> tuple[str, _State | None, str] | None:
    """The package name, version state (None: "is installed") and comment of a criterion,
    or None for one that names no package (file checks, the release package)."""
    test_ref, comment = item
    test = tables.tests.get(test_ref)
    if test is None:
        raise ValueError(f"criterion points at a missing test {test_ref}")
    tag, object_ref, state_ref = test
    if tag != "rpminfo_test":
        return None  # file checks: the platform, not a package
    name = tables.objects.get(object_ref)
    if not name:
        raise ValueError(f"test {test_ref} points at a missing or empty object {object_ref!r}")
    if name.endswith("-release"):
        return None  # the product release package: the platform
    if not state_ref:
        return name, None, comment
    state = tables.states.get(state_ref)
    if state is None:
        raise ValueError(f"test {test_ref} points at a missing state {state_ref}")
    if state.operation not in _OPERATIONS:
        raise ValueError(f"state {state_ref} has an unknown operation {state.operation!r}")
    return name, state, comment


def _range(criteria: str, state: _State, comment: str) -> AffectedRange | None:
    if state.kind == "signature":
        return None
    if state.kind == "version" and state.operation == "equals" and state.value == "0":
        return AffectedRange.statement(criteria)  # a version that never exists
    if "not affected" in comment:
        return AffectedRange.statement(criteria)
    if state.kind in ("evr", "version") and state.operation in _UPPER and state.value:
        return AffectedRange.checked(
            criteria, end=state.value, end_excluded=state.operation == "less than"
        )
    return None


_UPPER: Final = ("less than", "less than or equal")
