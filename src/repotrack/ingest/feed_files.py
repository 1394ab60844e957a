"""Feed files as the projects publish them: plain, compressed, or archives of them.

What users download: OSV's ``<ecosystem>/all.zip``, NVD's ``nvdcve-2.0-2024.json.gz``
and ``.json.zip``, cvelistV5's release zip (which holds ``cves.zip``), Red Hat's CSAF
VEX ``.tar.zst``, SUSE's ``.xml.gz`` and Red Hat's ``.oval.xml.bz2``. Each file (or
downloaded body) is read by what its bytes are, not by its name:

- gzip, bzip2, xz and zstd streams are unpacked (a ``.json.gz`` is one document);
  zchunk, which no Python library reads, is a problem naming the copy to take;
- a zip or tar archive gives its members, in the archive's order, each read the same
  way (archives nest, up to ``MAX_DEPTH``); only members a directory walk would take
  are read (``wanted``);
- anything else is one document.

A tar archive is read as a stream (Red Hat's CSAF archive unpacks to gigabytes; one
member is in memory at a time); a zip needs its directory at the end, so a zip inside
a compressed stream or another archive is read whole first.

A file or member that cannot be read (a cut download, a damaged archive) is one
``RecordProblem`` naming it (``archive!member`` inside archives); the documents before
it have been given, and the caller goes on with the next file.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

from repotrack.rpm.compression import DECOMPRESSION_ERRORS, detect_compression, open_payload
from repotrack.sources.compression import ZCHUNK, ZCHUNK_PROBLEM
from repotrack.sources.vulns import RecordProblem

__all__ = [
    "ARCHIVE_SUFFIXES",
    "CPE_DICTIONARY",
    "Document",
    "bytes_documents",
    "path_documents",
    "wanted",
]

#: A document: where it is (a path or URL, ``!member`` inside archives) and its bytes.
Document = tuple[str, bytes]

MAX_DEPTH: Final = 3
_COMPRESSED: Final = ("gzip", "bzip2", "xz", "zstd")
_PACKED: Final = ("", ".gz", ".bz2", ".xz", ".zst")
ARCHIVE_SUFFIXES: Final = (".zip", ".tar", ".tgz", *(f".tar{p}" for p in _PACKED[1:]))
#: The NVD CPE dictionary (``vulns map suggest --cpe-dictionary``); the sources of
#: ``XML_SOURCES`` are XML, the other sources JSON.
CPE_DICTIONARY: Final = "cpe-dictionary"
XML_SOURCES: Final = frozenset({"oval", "bdu", "cvrf", "updateinfo"})
#: Sources of files of either kind: the dictionary is XML (legacy) or JSON (2.0 feed).
_KINDS: Final = {CPE_DICTIONARY: (".xml", ".json")}
#: Files of a source's published layout that hold no records: cvelistV5 keeps the
#: changes of the last hour and of the last days beside the records.
NOT_RECORDS: Final = {"cve5": frozenset({"delta.json", "deltaLog.json"})}
#: Sources whose files a walk takes only when their names hold this: a repository's
#: ``repodata`` directory holds its ``updateinfo`` beside the package lists.
NAMED: Final = {"updateinfo": "updateinfo"}
_HEAD: Final = 512


def wanted(name: str, source: str) -> bool:
    """Whether a directory walk (or an archive) takes the file ``name``: a feed file of
    the source's kind (``.json``/``.xml``, possibly compressed) or an archive, and not
    one of the layout's files without records."""
    base = name.rsplit("/", 1)[-1]
    if base in NOT_RECORDS.get(source, frozenset()):
        return False
    if source in NAMED and NAMED[source] not in base and not base.endswith(ARCHIVE_SUFFIXES):
        return False
    kinds = _KINDS.get(source, (".xml",) if source in XML_SOURCES else (".json",))
    return base.endswith(
        tuple(f"{kind}{packed}" for kind in kinds for packed in _PACKED) + ARCHIVE_SUFFIXES
    )


def path_documents(path: Path, source: str) -> Iterator[Document | RecordProblem]:
    """The documents of one local file."""
    name = str(path)
    try:
        with path.open("rb") as raw:
            yield from _documents(raw, name, source, 0)
    except OSError as exc:
        yield RecordProblem(name, f"cannot read: {exc.strerror or exc}")


def bytes_documents(data: bytes, name: str, source: str) -> Iterator[Document | RecordProblem]:
    """The documents of a downloaded body (``name``: its URL)."""
    yield from _documents(io.BytesIO(data), name, source, 0)


def _documents(
    raw: BinaryIO, name: str, source: str, depth: int
) -> Iterator[Document | RecordProblem]:
    """``raw``'s documents; ``raw`` is seekable (a file, bytes)."""
    head = raw.read(_HEAD)
    raw.seek(0)
    kind = detect_compression(head)
    try:
        if kind in _COMPRESSED:
            stream = open_payload(raw, source=name, offset=0)
            yield from _unpacked(stream, name, source, depth)
        elif _is_zip(head):
            yield from _zip_members(raw, name, source, depth)
        elif _is_tar(head):
            yield from _tar_members(raw, name, source, depth)
        elif head.startswith(ZCHUNK):
            yield RecordProblem(name, ZCHUNK_PROBLEM)
        else:
            yield name, raw.read()
    except DECOMPRESSION_ERRORS as exc:
        yield RecordProblem(name, f"cannot read: {exc}")


def _unpacked(
    stream: BinaryIO, name: str, source: str, depth: int
) -> Iterator[Document | RecordProblem]:
    """The documents of a decompressed stream (not seekable): a tar is read as a stream,
    anything else whole."""
    head = stream.read(_HEAD)
    if _is_tar(head):
        prefixed = io.BufferedReader(_Prefixed(head, stream), 1 << 20)
        yield from _tar_members(prefixed, name, source, depth, streamed=True)
        return
    yield from _documents(io.BytesIO(head + stream.read()), name, source, depth)


def _zip_members(
    raw: BinaryIO, name: str, source: str, depth: int
) -> Iterator[Document | RecordProblem]:
    try:
        archive = zipfile.ZipFile(raw)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield RecordProblem(name, f"not a readable zip archive: {exc}")
        return
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not wanted(info.filename, source):
                continue
            where = f"{name}!{info.filename}"
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, *DECOMPRESSION_ERRORS) as exc:
                yield RecordProblem(where, f"cannot read: {exc}")
                continue
            yield from _member(data, where, source, depth)


def _tar_members(
    raw: BinaryIO, name: str, source: str, depth: int, *, streamed: bool = False
) -> Iterator[Document | RecordProblem]:
    try:
        with tarfile.open(fileobj=raw, mode="r|" if streamed else "r:") as archive:
            for info in archive:
                if not info.isfile() or not wanted(info.name, source):
                    continue
                member = archive.extractfile(info)
                if member is not None:
                    yield from _member(member.read(), f"{name}!{info.name}", source, depth)
    except tarfile.TarError as exc:
        yield RecordProblem(name, f"not a readable tar archive: {exc}")


def _member(data: bytes, where: str, source: str, depth: int) -> Iterator[Document | RecordProblem]:
    if depth + 1 > MAX_DEPTH:
        yield RecordProblem(where, f"archives nested deeper than {MAX_DEPTH} levels")
        return
    yield from _documents(io.BytesIO(data), where, source, depth + 1)


def _is_zip(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def _is_tar(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were read already (to tell what it is)."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
