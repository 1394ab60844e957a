"""apt-rpm header lists (pkglist.*, srclist.*): bare headers, one after another.

Each header is intro + index + data with no lead, no signature and no padding, written
by ``headerWrite`` without a region tag; the list simply ends at EOF.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from repotrack.errors import InputError
from repotrack.rpm.compression import read_exact
from repotrack.rpm.header import INTRO_SIZE, MAIN_LIMITS, Header, parse_intro

__all__ = ["iter_header_list"]


def iter_header_list(stream: BinaryIO, *, source: str) -> Iterator[Header]:
    """Yield each header of an (already decompressed) header list.

    ``source`` names the list in errors; a header cut short raises InputError with the
    byte offset (in the decompressed stream) where it began.
    """
    offset = 0
    while True:
        intro = read_exact(stream, INTRO_SIZE, source=source, offset=offset, what="header list")
        if not intro:
            return
        if len(intro) < INTRO_SIZE:
            raise InputError(
                "truncated header list: partial header intro", path=source, offset=offset
            )
        il, dl = parse_intro(intro, limits=MAIN_LIMITS, source=source, offset=offset)
        size = 16 * il + dl
        body = read_exact(
            stream, size, source=source, offset=offset + INTRO_SIZE, what="header list"
        )
        if len(body) < size:
            raise InputError(
                f"truncated header list: header needs {size} more bytes", path=source, offset=offset
            )
        yield Header.parse(intro + body, source=source, offset=offset)
        offset += INTRO_SIZE + size
