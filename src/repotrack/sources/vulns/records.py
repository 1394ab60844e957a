"""The plain records every vulnerability parser emits (no database, no network).

One ``VulnRecord`` per vulnerability or advisory as its source states it, with its
affected ranges already flattened the way ALTRepo's ``CpeMatch`` stores them
(reference/altrepo.md §6.1): a match string and a start/end bound, each with an
"excluded" flag. An empty bound means "no bound on that side".
A ``RecordProblem`` stands for one record that could not be read: parsers yield it in
place of the record and carry on, so one bad record never loses the rest of a file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from repotrack.errors import InputError
from repotrack.sources.times import EPOCH_START, STORE_END, epoch_time, store_time

__all__ = [
    "EPOCH_START",
    "STORE_END",
    "AffectedRange",
    "RecordProblem",
    "VulnRecord",
    "epoch_time",
    "names_evrs",
    "parse_timestamp",
    "read_each",
    "store_time",
    "vuln_type_of",
]


def names_evrs(bounds: Iterable[str]) -> bool:
    """Whether OSV-style bounds are whole EVRs (``[E:]V-R``) rather than versions: one
    of them has an epoch or a release. The matcher then compares whole EVRs (``cpm_key_kind
    evr``), and the events of an OSV range are sorted the same way."""
    return any("-" in bound or ":" in bound for bound in bounds)


#: Version text that names no version ("n/a", "unspecified", "< 2.0, >= 1.0").
_NOT_A_VERSION: Final = re.compile(r"^(n/a|unspecified|unknown|all|\*)?$|[\s<>=,]", re.IGNORECASE)


@dataclass(frozen=True)
class AffectedRange:
    """One flattened match: ``criteria`` (a CPE 2.3 string, or ``osv:<ecosystem>/<name>``)
    and the bounds of the affected versions.

    ``unknown`` marks a range whose bounds are free text rather than versions: the
    matcher reports such a package as ``unknown`` instead of guessing. ``not_affected``
    marks a vendor statement (CSAF VEX ``known_not_affected``) rather than a range.
    ``match_id`` is NVD's ``matchCriteriaId`` (the key of the CPE match feed); it is
    not part of a range's identity.
    """

    criteria: str
    start: str = ""
    start_excluded: bool = False
    end: str = ""
    end_excluded: bool = False
    unknown: bool = False
    not_affected: bool = False
    match_id: str = field(default="", compare=False)

    @classmethod
    def checked(
        cls,
        criteria: str,
        *,
        start: str = "",
        start_excluded: bool = False,
        end: str = "",
        end_excluded: bool = False,
        match_id: str = "",
    ) -> AffectedRange:
        """A range whose bounds are checked for being versions at all."""
        unknown = any(b and _NOT_A_VERSION.search(b) for b in (start, end))
        return cls(
            criteria, start, start_excluded, end, end_excluded, bool(unknown), match_id=match_id
        )

    @classmethod
    def statement(cls, criteria: str) -> AffectedRange:
        """A vendor's "this product is not affected" for every version."""
        return cls(criteria, not_affected=True)


@dataclass(frozen=True)
class VulnRecord:
    """One vulnerability as a source states it; ``raw`` is the source record as JSON text."""

    vuln_id: str
    source: str
    summary: str
    published: datetime
    modified: datetime
    raw: str
    score: float = 0.0
    severity: str = ""
    url: str = ""
    rejected: bool = False
    references: tuple[tuple[str, str], ...] = ()
    ranges: tuple[AffectedRange, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # Every source's dates within what the store holds (``store_time``).
        object.__setattr__(self, "published", store_time(self.published))
        object.__setattr__(self, "modified", store_time(self.modified))

    @property
    def vuln_type(self) -> str:
        return vuln_type_of(self.vuln_id)


@dataclass(frozen=True)
class RecordProblem:
    """A record that could not be read: where it is (file and record) and why."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def vuln_type_of(vuln_id: str) -> str:
    """``CVE``, ``BDU``, ``GHSA``... : the id's prefix."""
    head = re.split(r"[-:]", vuln_id, maxsplit=1)[0]
    return head.upper() or "UNKNOWN"


def parse_timestamp(value: Any, *, name: str) -> datetime:
    """An ISO 8601 time; zone-less times are UTC (NVD writes them so); held within
    what the store holds (``store_time``)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is missing")
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 time") from exc
    return store_time(when)


def raw_json(record: Any) -> str:
    """The record as compact JSON text with sorted keys (stable, so its hash is too)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def keyed(key: str, what: str) -> Callable[[Any, str], None]:
    """A ``read_each`` check: every item is a JSON object with ``key``, else the file is
    "not ``what`` (no ``key``)"."""

    def check(item: Any, where: str) -> None:
        if not isinstance(item, dict) or key not in item:
            raise InputError(f"not {what} (no {key})", path=where)

    return check


def read_each(
    items: list[Any],
    path: str,
    read: Callable[[dict[str, Any]], VulnRecord],
    *,
    check: Callable[[Any, str], None],
    label: str,
) -> Iterator[VulnRecord | RecordProblem]:
    """The records of a document's ``items``: ``check`` raises an ``InputError`` for an
    item that is not of the format at all (the file is then not read further); a record
    that ``read`` cannot make sense of is one ``RecordProblem`` named by its ``label``
    field, and the next one is read."""
    for index, item in enumerate(items):
        where = path if len(items) == 1 else f"{path}: [{index}]"
        check(item, where)
        try:
            yield read(item)
        except (ValueError, TypeError) as exc:
            yield RecordProblem(f"{where} ({item.get(label)})", str(exc))
