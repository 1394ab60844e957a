"""Partition tables of raw disk images: MBR (with extended/logical partitions) and GPT.

MBR: sector 0 ends with 55 AA; four 16-byte entries from byte 446 (type at +4, first
LBA at +8, sector count at +12). Type 0xEE marks a protective MBR: the real table is
the GPT whose header ("EFI PART") is in LBA 1, pointing to its entry array (LBA at
72, count at 80, entry size at 84; each entry: type GUID, first LBA at 32, last LBA
at 40). Extended partitions (0x05, 0x0F, 0x85) chain EBRs, each holding one logical
partition and a link to the next, relative to the extended partition's start.

Sectors are 512 bytes. A partition that ends past the end of the image is an error
naming the image: the image is truncated or the table is wrong.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from repotrack.errors import InputError

__all__ = ["SECTOR", "Partition", "read_partitions"]

SECTOR = 512
_EXTENDED = frozenset({0x05, 0x0F, 0x85})
_PROTECTIVE = 0xEE
_GPT_SIGNATURE = b"EFI PART"
_MAX_GPT_ENTRIES = 1024
_MAX_LOGICAL = 128


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition: its number (1-based, as Linux names them), byte offset and size."""

    number: int
    offset: int
    size: int
    type: str


def _sector(f: BinaryIO, lba: int, count: int = 1) -> bytes:
    f.seek(lba * SECTOR)
    return f.read(count * SECTOR)


def read_partitions(f: BinaryIO, *, name: str, image_size: int) -> list[Partition]:
    """The partitions of a disk image; an empty list when it has no partition table."""
    mbr = _sector(f, 0)
    if len(mbr) < SECTOR or mbr[510:512] != b"\x55\xaa":
        return []
    entries = [struct.unpack_from("<B3xBxxxII", mbr, 446 + 16 * i) for i in range(4)]
    if any(kind == _PROTECTIVE for _status, kind, _s, _n in entries):
        gpt = _gpt(f, name=name)
        if gpt is not None:
            return _checked(gpt, name, image_size)
    if any(status not in (0, 0x80) for status, _k, _s, _n in entries):
        return []  # a boot sector (FAT, ISO hybrid...) rather than a partition table
    found: list[Partition] = []
    for number, (_status, kind, start, count) in enumerate(entries, start=1):
        if kind == 0 or count == 0:
            continue
        if kind in _EXTENDED:
            found.extend(_logical(f, start, name=name))
            continue
        found.append(Partition(number, start * SECTOR, count * SECTOR, f"mbr:{kind:02x}"))
    return _checked(found, name, image_size)


def _logical(f: BinaryIO, extended: int, *, name: str) -> list[Partition]:
    found: list[Partition] = []
    ebr_lba = extended
    for number in range(5, 5 + _MAX_LOGICAL):
        ebr = _sector(f, ebr_lba)
        if len(ebr) < SECTOR or ebr[510:512] != b"\x55\xaa":
            raise InputError(f"bad extended boot record at sector {ebr_lba}", path=name)
        kind, start, count = struct.unpack_from("<4xBxxxII", ebr, 446)
        if kind and count:
            found.append(
                Partition(number, (ebr_lba + start) * SECTOR, count * SECTOR, f"mbr:{kind:02x}")
            )
        next_kind, next_start, _n = struct.unpack_from("<4xBxxxII", ebr, 462)
        if next_kind not in _EXTENDED or next_start == 0:
            return found
        ebr_lba = extended + next_start
    raise InputError("too many logical partitions (EBR loop?)", path=name)


def _gpt(f: BinaryIO, *, name: str) -> list[Partition] | None:
    header = _sector(f, 1)
    if len(header) < 92 or header[:8] != _GPT_SIGNATURE:
        return None
    entries_lba, count, entry_size = struct.unpack_from("<QII", header, 72)
    if count > _MAX_GPT_ENTRIES or entry_size < 128 or entry_size > 4096:
        raise InputError(f"implausible GPT: {count} entries of {entry_size} bytes", path=name)
    raw = _sector(f, entries_lba, (count * entry_size + SECTOR - 1) // SECTOR)
    if len(raw) < count * entry_size:
        raise InputError("GPT entry array lies past the end of the image", path=name)
    found: list[Partition] = []
    for i in range(count):
        base = i * entry_size
        type_guid = raw[base : base + 16]
        if not any(type_guid):
            continue
        first, last = struct.unpack_from("<QQ", raw, base + 32)
        if last < first:
            raise InputError(f"GPT partition {i + 1} ends before it starts", path=name)
        found.append(
            Partition(i + 1, first * SECTOR, (last - first + 1) * SECTOR, "gpt:" + type_guid.hex())
        )
    return found


def _checked(parts: list[Partition], name: str, image_size: int) -> list[Partition]:
    for part in parts:
        if part.offset + part.size > image_size:
            raise InputError(
                f"partition {part.number} ({part.offset}+{part.size} bytes) runs past the end "
                f"of the {image_size}-byte image (truncated image or bad partition table)",
                path=name,
            )
    return parts
