"""FSTEC BDU vulnerability list (``vulxml.zip`` → ``export.xml``; reference/altrepo.md §1.7).

The element names are those the legacy ``FstecBduList`` table mirrors: each ``vul``
has ``identifier`` (``BDU:2015-00001``), ``name``, ``description``,
``identify_date`` (``dd.mm.yyyy``), ``severity``, ``solution``, ``vul_status``,
``exploit_status``, ``fix_status``, ``sources``, ``other``, ``cwe/identifier``,
``cvss/vector@score`` and ``identifiers/identifier@type@link`` (the CVE and other ids
the record names). A BDU record carries no machine-readable version ranges: like
ALTRepo (§6.3.5) repotrack links it to CVEs through ``vuln_references`` of type
``CVE`` and matches nothing by itself.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Final
from xml.etree import ElementTree as ET

from repotrack.sources.vulns.records import EPOCH_START, RecordProblem, VulnRecord, raw_json
from repotrack.sources.xmlstream import iter_elements, local_name

__all__ = ["parse_bdu"]

_BDU_ID: Final = re.compile(r"^BDU:\d{4}-\d{5}$")
_FIELDS: Final = (
    "name", "description", "identify_date", "severity", "solution", "vul_status",
    "exploit_status", "fix_status", "sources", "other",
)  # fmt: skip


def parse_bdu(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """One record per ``vul`` element of the export."""
    for index, element in enumerate(
        iter_elements(io.BytesIO(data), name=path, tags=frozenset({"vul"}))
    ):
        try:
            yield _record(element)
        except ValueError as exc:
            yield RecordProblem(f"{path}: vul[{index}]", str(exc))


def _text(element: ET.Element, name: str) -> str:
    found = next((c for c in element if local_name(c.tag) == name), None)
    return (found.text or "").strip() if found is not None else ""


def _record(element: ET.Element) -> VulnRecord:
    bdu_id = _text(element, "identifier")
    if not _BDU_ID.match(bdu_id):
        raise ValueError(f"identifier {bdu_id!r} is not like BDU:2015-00001")
    fields = {name: _text(element, name) for name in _FIELDS}
    identified = _date(fields["identify_date"])
    links: list[tuple[str, str]] = []
    scores: list[float] = []
    for child in element.iter():
        name = local_name(child.tag)
        if name == "identifier" and child is not element and child.get("type"):
            links.append((child.get("type", ""), (child.text or "").strip()))
        elif name == "vector" and child.get("score"):
            scores.append(_score(child.get("score", "")))
    fields["identifiers"] = [{"type": t, "id": i} for t, i in links]  # type: ignore[assignment]
    return VulnRecord(
        vuln_id=bdu_id,
        source="bdu",
        summary=fields["name"] or fields["description"],
        published=identified,
        modified=identified,
        raw=raw_json({"identifier": bdu_id, **fields}),
        score=max(scores, default=0.0),
        severity=fields["severity"].split(" (", 1)[0],
        url=f"https://bdu.fstec.ru/vul/{bdu_id.removeprefix('BDU:')}",
        references=tuple(dict.fromkeys((t.upper(), i) for t, i in links if i)),
    )


def _date(text: str) -> datetime:
    if not text:
        return EPOCH_START
    try:
        return datetime.strptime(text, "%d.%m.%Y").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"identify_date {text!r} is not dd.mm.yyyy") from exc


def _score(text: str) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError as exc:
        raise ValueError(f"CVSS score {text!r} is not a number") from exc
