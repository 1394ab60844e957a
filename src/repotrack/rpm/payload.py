"""Walk the members of a package's payload, keeping only the ones a caller asks for."""

from __future__ import annotations

import stat
from collections.abc import Callable, Generator

from repotrack.errors import InputError
from repotrack.rpm.compression import open_payload
from repotrack.rpm.cpio import CpioEntry, CpioReader, StrippedLookup
from repotrack.rpm.files import file_paths
from repotrack.rpm.files_open import open_regular
from repotrack.rpm.header import Header
from repotrack.rpm.package import RpmFile
from repotrack.rpm.tags import Tag

__all__ = ["iter_payload"]


def iter_payload(
    package: RpmFile, wanted: Callable[[CpioEntry], bool], *, max_bytes: int
) -> Generator[tuple[CpioEntry, bytes], None, None]:
    """Yield ``(entry, data)`` for each payload member ``wanted`` accepts, streaming.

    Members not wanted are skipped chunk by chunk; a wanted member larger than
    ``max_bytes`` raises InputError. Decompression is chosen by the payload's magic.
    """
    source = package.path
    try:
        raw = open_regular(source)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=source) from exc
    with raw:
        raw.seek(package.payload_offset)
        with open_payload(raw, source=source, offset=package.payload_offset) as stream:
            reader = CpioReader(stream, source=source, stripped=_stripped_lookup(package))
            while (entry := reader.next()) is not None:
                if wanted(entry):
                    yield entry, reader.read(max_bytes)


def _stripped_lookup(package: RpmFile) -> StrippedLookup:
    """For "07070X" archives: name, mode, mtime and data size of file index ``fx``."""
    header = package.header
    cache: list[tuple[list[str], list[int], list[int], list[int], list[bytes], set[int]]] = []

    def lookup(index: int) -> tuple[str, int, int, int]:
        if not cache:
            cache.append(
                (
                    file_paths(header),
                    header.get_ints(Tag.FILEMODES),
                    header.get_ints(Tag.FILEMTIMES),
                    header.get_ints(Tag.LONGFILESIZES) or header.get_ints(Tag.FILESIZES),
                    header.get_raw_strings(Tag.FILELINKTOS),
                    _data_carriers(header),
                )
            )
        paths, modes, mtimes, sizes, links, carriers = cache[0]
        if not 0 <= index < min(len(paths), len(modes), len(mtimes), len(sizes)):
            raise InputError(
                f"stripped cpio index {index} has no file in the header", path=package.path
            )
        mode = modes[index]
        size = 0
        if stat.S_ISREG(mode) and index in carriers:
            size = sizes[index]
        elif stat.S_ISLNK(mode) and index < len(links):
            size = len(links[index])
        return paths[index], mode, mtimes[index], size

    return lookup


def _data_carriers(header: Header) -> set[int]:
    """Indices whose data is in the archive: unlinked files and the last of each hardlink set."""
    devices = header.get_ints(Tag.FILEDEVICES)
    inodes = header.get_ints(Tag.FILEINODES)
    modes = header.get_ints(Tag.FILEMODES)
    if not len(devices) == len(inodes) == len(modes):
        return set(range(len(modes)))
    last: dict[tuple[int, int], int] = {}
    for i, key in enumerate(zip(devices, inodes, strict=True)):
        if stat.S_ISREG(modes[i]):
            last[key] = i
    return set(last.values())
