"""OVAL 5.x definitions for RPM distributions: Red Hat, SUSE, Oracle (vuln-formats.md §7).

The file is read as a stream (``xmlstream``: no DTD, so no entity expansion);
``rpminfo`` tests, objects and states are collected, then each ``definition`` becomes
one record:

- id: for a ``patch`` definition its advisory reference (``ELSA-2007-0057``,
  ``RHSA-2019:3927``); for a ``vulnerability`` definition ``OVAL:<CVE>`` (so that it
  never replaces the NVD record of the CVE), else ``OVAL:<definition id>``. CVE
  references (``reference@source="CVE"``, or "CVE-… at NVD" text) become ``CVE``
  references. ``deprecated="true"`` definitions are kept and marked rejected.
- stream: the advisory's first ``affected_cpe_list/cpe``, else the first
  ``affected/platform``; every package range of the definition uses it, as
  ``osv:<stream>/<package>``.
- each criterion's test: a state ``evr`` / ``version`` with ``less than`` → affected
  below that EVR (end excluded); a ``version equals 0`` state or a comment "… is not
  affected" → a not-affected statement; a test with no state in a ``vulnerability``
  definition ("… is installed") → every version affected. Platform tests (objects named
  ``*-release`` and file checks) and signature-key states only constrain the host and
  are skipped.

A definition that points at a missing test, object or state, or uses an operation
outside the OVAL vocabulary, is reported as a ``RecordProblem``; the others load.
"""

from __future__ import annotations

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
        "rpminfo_object",
        "rpminfo_state",
        "generator",
    }
)


@dataclass
class _State:
    operation: str = ""
    value: str = ""
    kind: str = ""  # evr, version or signature


@dataclass
class _Tables:
    tests: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # id → (tag, obj, state)
    objects: dict[str, str] = field(default_factory=dict)
    states: dict[str, _State] = field(default_factory=dict)
    timestamp: datetime = EPOCH_START


@dataclass
class _Definition:
    element_text: dict[str, object]
    klass: str
    def_id: str
    deprecated: bool
    criteria: list[tuple[str, str]]  # (test ref, comment)


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
    for child in element:
        kind = local_name(child.tag)
        if kind in ("evr", "version", "signature_keyid"):
            return _State(
                operation=child.get("operation", "equals"),
                value=(child.text or "").strip(),
                kind="signature" if kind == "signature_keyid" else kind,
            )
    return _State()


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
    criteria = [
        (c.get("test_ref", ""), c.get("comment", ""))
        for c in element.iter()
        if local_name(c.tag) == "criterion"
    ]
    return _Definition(
        element_text=info,
        klass=element.get("class", ""),
        def_id=element.get("id", ""),
        deprecated=element.get("deprecated") == "true",
        criteria=criteria,
    )


def _record(definition: _Definition, tables: _Tables) -> VulnRecord:
    info = definition.element_text
    references: list[tuple[str, str, str]] = info["references"]  # type: ignore[assignment]
    cves = [ref_id for source, ref_id, _ in references if source.upper() == "CVE"]
    cves += _CVE.findall(" ".join(ref_id for _, ref_id, _ in references))
    cves = list(dict.fromkeys(c for c in cves if _CVE.fullmatch(c)))
    advisories = [ref_id for source, ref_id, _ in references if source.upper() != "CVE" and ref_id]
    if definition.klass == "patch" and advisories:
        vuln_id = advisories[0]
    elif len(cves) == 1:
        vuln_id = f"OVAL:{cves[0]}"
    else:
        vuln_id = f"OVAL:{definition.def_id}"
    cpes: list[str] = info["cpes"]  # type: ignore[assignment]
    platforms: list[str] = info["platforms"]  # type: ignore[assignment]
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
    for test_ref, comment in definition.criteria:
        test = tables.tests.get(test_ref)
        if test is None:
            raise ValueError(f"criterion points at a missing test {test_ref}")
        tag, object_ref, state_ref = test
        if tag != "rpminfo_test":
            continue  # file checks: the platform, not a package
        name = tables.objects.get(object_ref)
        if not name:
            raise ValueError(f"test {test_ref} points at a missing or empty object {object_ref!r}")
        if name.endswith("-release"):
            continue  # the product release package: the platform
        criteria = f"osv:{stream}/{name}"
        if not state_ref:
            if "not affected" in comment:
                yield AffectedRange.statement(criteria)
            elif definition.klass == "vulnerability":
                yield AffectedRange(criteria)
            continue
        state = tables.states.get(state_ref)
        if state is None:
            raise ValueError(f"test {test_ref} points at a missing state {state_ref}")
        if state.operation not in _OPERATIONS:
            raise ValueError(f"state {state_ref} has an unknown operation {state.operation!r}")
        found = _range(criteria, state, comment)
        if found is not None:
            yield found


def _range(criteria: str, state: _State, comment: str) -> AffectedRange | None:
    if state.kind == "signature":
        return None
    if state.kind == "version" and state.operation == "equals" and state.value == "0":
        return AffectedRange.statement(criteria)  # a version that never exists
    if "not affected" in comment:
        return AffectedRange.statement(criteria)
    if state.kind in ("evr", "version") and state.operation == "less than" and state.value:
        return AffectedRange.checked(criteria, end=state.value, end_excluded=True)
    return None
