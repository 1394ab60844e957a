"""Vulnerability feeds → ``Vulnerabilities`` and ``CpeMatch`` rows (reference/altrepo.md §6.1).

Order of work, per batch of records:

1. parse each file with the source's parser (``sources.vulns.PARSERS``); a record
   that cannot be read is reported and skipped, the rest of the file loads (a file
   that cannot be read at all is reported and the other files load);
2. drop records whose content is already current (same ``vuln_hash``: a re-run adds
   nothing), records that would replace a record of a stronger source (an NVD
   record is not replaced by the CVE 5 copy of the same CVE), and records modified
   before the stored record of their source (an archived feed loaded after current
   data does not put old records back);
3. write the ``CpeMatch`` rows of the new versions, each with the sortable keys of its
   bounds in both version orders (``rpm.verkey``);
4. write the ``Vulnerabilities`` rows last. Readers take a vulnerability's ranges
   through its current ``vuln_hash`` (``argMax(vuln_hash, ts)``), so ranges written
   in step 3 stay invisible until step 4: an interrupted load shows nothing half-done.
   The rerun of a load killed between the two steps finds the ranges of step 3 stored
   and writes only the missing ones (a range written twice would be matched twice).

The raw source record is kept in ``vuln_json``. Rejected and withdrawn records are
written with ``vuln_rejected = 1`` and their ranges, and the matcher skips them.

The source ``cpematch`` (the NVD CPE match feed) goes the same way into
``CpeMatchStrings`` instead (``ingest.vuln_cpematch``): one row per match criteria
whose content changed; ``cvechecked`` (ALT's manual CVE checks) into ``CveChecked``
(``ingest.vuln_checked``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from repotrack.errors import InputError
from repotrack.ingest.feed_files import Document, bytes_documents, path_documents, wanted
from repotrack.ingest.vuln_fetch import FeedRead, is_url, read_feed, save_feed_state
from repotrack.ingest.vuln_repomd import (
    REPOMD,
    UPDATEINFO,
    check_checksum,
    local_updateinfo,
    repomd_url,
    updateinfo_url,
)
from repotrack.rpm import VersionOrder, evr_key, mmhash, parse_evr, version_key
from repotrack.sources.vulns import (
    PARSERS,
    AffectedRange,
    RecordProblem,
    VulnRecord,
    names_evrs,
    parse_cpe,
)
from repotrack.sources.vulns.updateinfo import UpdateinfoLocation, updateinfo_location
from repotrack.store.base import Store

if TYPE_CHECKING:
    from repotrack.ingest.repo import LoadProgress

__all__ = [
    "CHECKED_SOURCE",
    "CPE_MATCH_SOURCE",
    "VulnJobSummary",
    "VulnLoad",
    "VulnLoadSummary",
    "cpe_match_row",
    "load_vulns",
    "source_names",
]

log = logging.getLogger(__name__)

BATCH_RECORDS: Final = 1000
#: The NVD CPE match feed: match criteria → concrete CPE names (``CpeMatchStrings``).
CPE_MATCH_SOURCE: Final = "cpematch"
#: ALT's manual CVE checks (altrepodb's ``CveChecked`` rows): ``CveChecked``.
CHECKED_SOURCE: Final = "cvechecked"
#: A record of a source never replaces the current record of a stronger one.
#: AlmaLinux's errata JSON and a repository's updateinfo outrank the OSV copy of the same
#: advisory: they write epochs.
SOURCE_RANK: Final = {"nvd": 3, "cve5": 2, "almalinux": 2, "updateinfo": 2}

#: Which reading of a source's records repotrack makes, where it is not the first one:
#: bumped by a change that reads the same text differently (other ranges, another
#: stream or id). It is part of a record's ``vuln_hash`` (``record_hash``), so the same
#: file loaded after such an upgrade writes its records anew, read the new way; readers
#: take a record's ranges by its current hash, so the old reading's ranges are no longer
#: the record's. Before 2026-12-07 the hash was the text alone, and a record stored
#: before a fix kept the old ranges until its source published a new version of it.
#: 2: the readings fixed on 2026-12-07 (OSV ``versions`` beside ranges; OVAL module
#: streams, unaffected components, ksplice, SUSE streams and ids; SUSE's CVRF per-CVE
#: ids; Red Hat's Flatpak RPMs and module RPMs; AlmaLinux's updateinfo release).
READINGS: Final = {"osv": 2, "oval": 2, "cvrf": 2, "csaf": 2, "redhat": 2, "updateinfo": 2}


def record_hash(record: VulnRecord) -> int:
    """The record's ``vuln_hash``: its text, and the reading (``READINGS``) when that is
    not the first (records of sources never re-read keep the hash they were stored with)."""
    reading = READINGS.get(record.source.split(":", 1)[0], 1)
    return mmhash(record.raw if reading == 1 else f"reading {reading}\n{record.raw}")


VULN_COLUMNS: Final = (
    "vuln_id",
    "vuln_hash",
    "vuln_type",
    "vuln_summary",
    "vuln_score",
    "vuln_severity",
    "vuln_url",
    "vuln_modified_date",
    "vuln_published_date",
    "vuln_json",
    "vuln_references.type",
    "vuln_references.link",
    "vuln_rejected",
    "vuln_source",
)
CPM_COLUMNS: Final = (
    "vuln_id",
    "vuln_hash",
    "cpe_hash",
    "cpm_cpe",
    "cpm_version_start",
    "cpm_version_end",
    "cpm_version_start_excluded",
    "cpm_version_end_excluded",
    "cpm_vendor",
    "cpm_product",
    "cpm_target_sw",
    "cpm_key_kind",
    "cpm_start_key",
    "cpm_end_key",
    "cpm_start_key_alt",
    "cpm_end_key_alt",
    "cpm_unknown",
    "cpm_not_affected",
    "cpm_match_criteria_id",
)


def source_names() -> list[str]:
    """Every ``SOURCE`` of ``repotrack load vulns``."""
    return sorted([*PARSERS, CPE_MATCH_SOURCE, CHECKED_SOURCE])


@dataclass(frozen=True)
class VulnLoad:
    """The arguments of one feed load, as every face receives them.

    ``paths`` are files, directories or http(s) URLs (kept as text: a URL is no path).
    The CLI runs it itself or, while ``repotrack serve`` holds the store, hands
    ``as_dict`` to ``POST /api/v1/loads`` (kind ``vulns``), whose job runner calls the
    same ``run``.
    """

    kind: ClassVar[str] = "vulns"
    source: str
    paths: tuple[str, ...]
    #: The NVD API key of the process that runs the load (its settings'); never part of
    #: ``as_dict``: a handed-off load uses the service's own.
    nvd_api_key: str = field(default="", repr=False, compare=False)

    def read_paths(self) -> tuple[Path, ...]:
        """The local files and directories the load reads (URLs are fetched)."""
        return tuple(Path(p) for p in self.paths if not is_url(p))

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "source": self.source, "paths": list(self.paths)}

    def resolved(self) -> VulnLoad:
        """Local paths made absolute (the service reads them from its own directory)."""
        return VulnLoad(
            self.source,
            tuple(p if is_url(p) else str(Path(p).resolve()) for p in self.paths),
            self.nvd_api_key,
        )

    def run(self, store: Store, progress: LoadProgress | None = None) -> VulnJobSummary:
        started = time.monotonic()
        summary = load_vulns(
            store,
            source=self.source,
            paths=self.paths,
            progress=progress,
            nvd_api_key=self.nvd_api_key,
        )
        return VulnJobSummary(
            kind=self.kind,
            lines=(summary.line(),),
            problems=tuple(summary.problems),
            seconds=time.monotonic() - started,
        )


@dataclass
class VulnLoadSummary:
    """What a load did: records read, written, already current, kept from a stronger
    source, older than the stored record of the same source."""

    source: str
    files: int = 0
    records: int = 0
    written: int = 0
    unchanged: int = 0
    kept: int = 0
    older: int = 0
    rejected: int = 0
    not_modified: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        """The summary line ``repotrack load vulns`` prints."""
        not_modified = f", {self.not_modified} URL(s) not modified" if self.not_modified else ""
        older = f", {self.older} older than the stored record" if self.older else ""
        if self.source == CPE_MATCH_SOURCE:
            return (
                f"{self.source}: {self.files} file(s), {self.records} match string(s): "
                f"{self.written} written ({self.rejected} inactive), {self.unchanged} already "
                f"loaded{not_modified}"
            )
        if self.source == CHECKED_SOURCE:
            return (
                f"{self.source}: {self.files} file(s), {self.records} check(s): "
                f"{self.written} written, {self.unchanged} already loaded{not_modified}"
            )
        return (
            f"{self.source}: {self.files} file(s), {self.records} record(s): {self.written} "
            f"written ({self.rejected} rejected/withdrawn), {self.unchanged} already "
            f"loaded, {self.kept} kept from a stronger source{older}{not_modified}"
        )


@dataclass(frozen=True)
class VulnJobSummary:
    """A load as the command prints it: ``lines`` on stdout, ``problems`` on stderr (each
    as ``InputError: …``; the exit status is then 2). The service sends it back whole, so
    a handed-over load prints what a local one does."""

    kind: str
    lines: tuple[str, ...]
    problems: tuple[str, ...]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lines": list(self.lines),
            "line": "\n".join(self.lines),
            "seconds": round(self.seconds, 3),
            "problems": list(self.problems),
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> VulnJobSummary:
        return cls(
            kind=str(body.get("kind") or "vulns"),
            lines=tuple(str(line) for line in body.get("lines") or ()),
            problems=tuple(str(p) for p in body.get("problems") or ()),
            seconds=float(body.get("seconds") or 0.0),
        )


#: A parser of any source: ``VulnRecord``s, or ``MatchString``s for ``cpematch``.
AnyParser = Callable[..., Iterator[Any]]
#: Writes one batch of parsed items and counts what it did in the summary.
Writer = Callable[[Store, list[Any], VulnLoadSummary], None]


def load_vulns(
    store: Store,
    *,
    source: str,
    paths: Sequence[Path | str],
    batch: int = BATCH_RECORDS,
    progress: LoadProgress | None = None,
    nvd_api_key: str = "",
) -> VulnLoadSummary:
    """Load every record of ``paths``: files, directories (read recursively) or URLs.

    ``progress`` counts the local files read, an archive's members one by one
    (``advance`` after each: a service job that is asked to stop ends there, with the
    records read so far stored whole, and does not wait for the end of an archive).
    """
    parser: AnyParser
    writer: Writer
    if source == CPE_MATCH_SOURCE:
        from repotrack.ingest.vuln_cpematch import write_match_strings
        from repotrack.sources.vulns.cpe_match import parse_cpe_match

        parser, writer = parse_cpe_match, write_match_strings
    elif source == CHECKED_SOURCE:
        from repotrack.ingest.vuln_checked import write_checks
        from repotrack.sources.vulns.cve_checked import parse_cve_checked

        parser, writer = parse_cve_checked, write_checks
    elif source in PARSERS:
        parser, writer = PARSERS[source], _write_batch
    else:
        known = ", ".join(source_names())
        raise InputError(
            f"unknown vulnerability source {source!r} (known: {known})", field="source"
        )
    summary = VulnLoadSummary(source)
    pending: list[Any] = []
    urls = [str(p) for p in paths if is_url(str(p))]
    local = [Path(p) for p in paths if not is_url(str(p))]
    files = list(_files(local, source))
    if progress is not None:
        progress.start(total=len(files))
    for given in urls:
        url, repomd, location = given, None, None
        if source == UPDATEINFO and (where := repomd_url(given)) is not None:
            repomd = read_feed(store, where)  # a repository: its repomd.xml names the file
            if repomd.not_modified:
                summary.not_modified += 1
                continue
            location = _updateinfo_entry(repomd)
            url = updateinfo_url(where, location)
        read = read_feed(store, url, nvd_api_key=nvd_api_key)
        summary.not_modified += int(read.not_modified)
        for page in read.documents:
            if repomd is not None and location is not None:
                check_checksum(page, location, where=url, repomd=repomd.url)
            for document in bytes_documents(page, url, source):
                pending = _document(store, parser, writer, document, pending, summary, batch)
        if pending:
            writer(store, pending, summary)
            pending = []
        save_feed_state(store, read)  # only after its records are stored
        if repomd is not None:
            save_feed_state(store, repomd)
    total = len(files)
    for path in files:
        for number, document in enumerate(path_documents(path, source)):
            if progress is not None and number:  # an archive's members count one by one
                total += 1
                progress.start(total=total)
            written = summary.written
            pending = _document(store, parser, writer, document, pending, summary, batch)
            if progress is not None:
                if pending:  # a stop request ends the load here: write what was read first
                    writer(store, pending, summary)
                    pending = []
                progress.advance(new=summary.written > written)
    if pending:
        writer(store, pending, summary)
    return summary


def _document(
    store: Store,
    parser: AnyParser,
    writer: Writer,
    document: Document | RecordProblem,
    pending: list[Any],
    summary: VulnLoadSummary,
    batch: int,
) -> list[Any]:
    """One file, or one member of an archive: its records, or the problem that it could
    not be read at all (reported; the next one is read)."""
    summary.files += 1
    if isinstance(document, RecordProblem):
        _skipped(summary, document)
        return pending
    name, data = document
    return _take(store, parser, writer, data, name, pending, summary, batch)


def _take(
    store: Store,
    parser: AnyParser,
    writer: Writer,
    data: bytes,
    name: str,
    pending: list[Any],
    summary: VulnLoadSummary,
    batch: int,
) -> list[Any]:
    """Parse one document into ``pending``, writing full batches; returns what is left.

    Records are taken as the parser reads them (a streamed NVD feed is never whole in
    memory). A document that cannot be read is one problem naming the file; one that
    breaks off part-way (a cut download) is that problem after its complete records,
    which load like any others (a record is written whole or not at all)."""
    items = parser(data, path=name)
    while True:
        try:
            item = next(items, None)
        except InputError as exc:  # unreadable from here on; the other files load
            item = RecordProblem(name, exc.reason)
            _skipped(summary, item)
            return pending
        if item is None:
            return pending
        if isinstance(item, RecordProblem):
            _skipped(summary, item)
            continue
        summary.records += 1
        pending.append(item)
        if len(pending) >= batch:
            writer(store, pending, summary)
            pending = []


def _skipped(summary: VulnLoadSummary, problem: RecordProblem) -> None:
    summary.problems.append(str(problem))
    # info, not warning: the command prints each problem itself (and the service keeps
    # them in the job's summary); a warning without a handler printed a bare second line
    log.info("vulnerability record skipped", extra={"problem": str(problem)})


def _files(paths: Sequence[Path], source: str) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.is_file() and wanted(p.name, source))
            yield from sorted(found)
        elif path.is_file() and source == UPDATEINFO and path.name == REPOMD:
            yield local_updateinfo(path)
        elif path.is_file():
            yield path
        elif path.exists():  # a device, a pipe, a socket: the readers need a file
            raise InputError("not a regular file or directory", path=str(path))
        else:
            raise InputError("no such file or directory", path=str(path))


def _updateinfo_entry(repomd: FeedRead) -> UpdateinfoLocation:
    """The updateinfo entry of a repository's ``repomd.xml`` as read (``vuln_repomd``)."""
    location = updateinfo_location(repomd.documents[0], path=repomd.url)
    if location is None:
        raise InputError("the repository lists no updateinfo", path=repomd.url)
    return location


def _write_batch(store: Store, records: list[VulnRecord], summary: VulnLoadSummary) -> None:
    latest: dict[str, VulnRecord] = {}
    for record in records:  # duplicates inside a batch: the newest modification wins
        seen = latest.get(record.vuln_id)
        if seen is None or record.modified >= seen.modified:
            latest[record.vuln_id] = record
    summary.unchanged += len(records) - len(latest)
    current = _current(store, list(latest))
    fresh: list[tuple[VulnRecord, int]] = []
    for record in latest.values():
        vuln_hash = record_hash(record)
        old = current.get(record.vuln_id)
        if old is not None and old[0] == vuln_hash:
            summary.unchanged += 1
        elif old is not None and SOURCE_RANK.get(old[1], 1) > SOURCE_RANK.get(record.source, 1):
            summary.kept += 1
        elif old is not None and old[1] == record.source and old[2] > _utc(record.modified):
            summary.older += 1
        else:
            fresh.append((record, vuln_hash))
    if not fresh:
        return
    stored = _stored_ranges(store, fresh)
    ranges = [
        r for rec, h in fresh for r in _range_rows(rec, h) if (r[0], r[1], r[2]) not in stored
    ]
    store.insert("CpeMatch", CPM_COLUMNS, ranges)
    store.insert("Vulnerabilities", VULN_COLUMNS, [_vuln_row(rec, h) for rec, h in fresh])
    summary.written += len(fresh)
    summary.rejected += sum(1 for rec, _ in fresh if rec.rejected)


def _stored_ranges(store: Store, fresh: list[tuple[VulnRecord, int]]) -> set[tuple[str, int, int]]:
    """The ranges of these record versions already stored: a load killed between its
    ranges and its records wrote them, and the records stayed unwritten, so a rerun
    writes the same versions again. Written twice, a range would match twice.

    Asked by the versions' hashes alone: sending the batch's ids as well cost 6-10 ms
    more a batch of 1 000 records (their text in the statement, and the key's
    analysis) than reading the hash column of a 190 000-range store."""
    rows = store.query(
        "SELECT vuln_id, vuln_hash, cpe_hash FROM CpeMatch "
        "PREWHERE vuln_hash IN {hashes:Array(UInt64)}",
        {"hashes": [h for _, h in fresh]},
    )
    return {(str(i), int(h), int(c)) for i, h, c in rows}


def _current(store: Store, ids: list[str]) -> dict[str, tuple[int, str, datetime]]:
    """Each stored vulnerability's current hash, source and modification time."""
    rows = store.query(
        "SELECT vuln_id, argMax(vuln_hash, ts), argMax(vuln_source, ts), "
        "argMax(vuln_modified_date, ts) FROM Vulnerabilities "
        "WHERE vuln_id IN {ids:Array(String)} GROUP BY vuln_id",
        {"ids": ids},
    )
    return {str(i): (int(h), str(s), _utc(m)) for i, h, s, m in rows}


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _vuln_row(record: VulnRecord, vuln_hash: int) -> tuple[Any, ...]:
    return (
        record.vuln_id,
        vuln_hash,
        record.vuln_type,
        record.summary,
        record.score,
        record.severity,
        record.url,
        record.modified,
        record.published,
        record.raw,
        [t for t, _ in record.references],
        [link for _, link in record.references],
        int(record.rejected),
        record.source,
    )


def _range_rows(record: VulnRecord, vuln_hash: int) -> Iterable[tuple[Any, ...]]:
    seen: set[int] = set()
    for found in record.ranges:
        row = cpe_match_row(record.vuln_id, vuln_hash, found)
        if row[2] not in seen:
            seen.add(row[2])
            yield row


def cpe_match_row(vuln_id: str, vuln_hash: int, found: AffectedRange) -> tuple[Any, ...]:
    """One ``CpeMatch`` row (``CPM_COLUMNS`` order) with its triplet and bound keys."""
    if found.criteria.startswith("osv:"):
        vendor, product, target_sw = "", found.criteria, ""
    else:
        cpe = parse_cpe(found.criteria)
        vendor, product, target_sw = cpe.vendor, cpe.product, cpe.target_sw
    kind = _key_kind(found)
    identity = "\0".join(
        (
            found.criteria,
            found.start,
            str(found.start_excluded),
            found.end,
            str(found.end_excluded),
            "not_affected" if found.not_affected else "",
        )
    )
    return (
        vuln_id,
        vuln_hash,
        mmhash(identity),
        found.criteria,
        found.start,
        found.end,
        found.start_excluded,
        found.end_excluded,
        vendor,
        product,
        target_sw,
        kind,
        _bound_key(found.start, kind, VersionOrder.RPM, found),
        _bound_key(found.end, kind, VersionOrder.RPM, found),
        _bound_key(found.start, kind, VersionOrder.ALT, found),
        _bound_key(found.end, kind, VersionOrder.ALT, found),
        int(found.unknown),
        int(found.not_affected),
        found.match_id,
    )


def _key_kind(found: AffectedRange) -> str:
    """OSV ranges of RPM ecosystems bound whole EVRs; everything else bounds versions."""
    evr_like = names_evrs((found.start, found.end))
    return "evr" if found.criteria.startswith("osv:") and evr_like else "version"


def _bound_key(bound: str, kind: str, order: VersionOrder, found: AffectedRange) -> bytes:
    """The sortable key of one bound; empty for "no bound" and for bounds that are no version."""
    if not bound or found.unknown or bound == "-":
        return b""
    if kind == "evr":
        epoch, version, release = parse_evr(bound)
        return evr_key(epoch, version, release, order)
    return version_key(bound, order)
