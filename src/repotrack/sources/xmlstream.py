"""Streaming XML with the prolog checked first: no DTD, hence no entity expansion.

``xml.etree.ElementTree.iterparse`` is the right tool for metadata files of hundreds
of megabytes, but expat expands internal entities declared in a DTD (a few hundred
bytes can declare a "billion laughs"). A DTD can only appear in the prolog, before
the root element, so the prolog is scanned here and any ``<!DOCTYPE`` is refused
before a single byte reaches the parser. Without a DTD, only the five predefined
entities and character references exist; anything else is an expat error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import BinaryIO

from repotrack.errors import InputError
from repotrack.sources.compression import DECOMPRESSION_ERRORS

__all__ = ["iter_elements", "local_name"]

#: The prolog (declaration, comments, processing instructions) must fit in this many bytes.
MAX_PROLOG = 64 * 1024
_CHUNK = 64 * 1024


class _Replay:
    """A ``read(n)`` source that returns ``head`` first, then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if self._head:
            data, self._head = self._head, b""
            return data
        return self._stream.read(size)


def _prolog_end(head: bytes, *, name: str) -> bool:
    """True when ``head`` reaches the root element past a harmless prolog; False: read more."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00", b"<\x00")):
        raise InputError("only UTF-8 XML is accepted", path=name)
    pos = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while pos < len(head) and head[pos : pos + 1].isspace():
            pos += 1
        if len(head) - pos < 9:
            return False
        if head.startswith(b"<?", pos):
            terminator = b"?>"
        elif head.startswith(b"<!--", pos):
            terminator = b"-->"
        elif head.startswith(b"<!", pos):
            raise InputError("XML with a DTD (<!DOCTYPE) is refused", path=name, offset=pos)
        else:
            return True
        end = head.find(terminator, pos)
        if end < 0:
            return False
        pos = end + len(terminator)


def _read_head(stream: BinaryIO, *, name: str) -> bytes:
    head = b""
    while True:
        chunk = stream.read(_CHUNK)
        head += chunk
        if _prolog_end(head, name=name) or not chunk:
            return head
        if len(head) > MAX_PROLOG:
            raise InputError("XML prolog too long", path=name)


def iter_elements(stream: BinaryIO, *, name: str, tags: frozenset[str]) -> Iterator[ET.Element]:
    """Yield each completed element whose local name is in ``tags``.

    The caller must ``clear()`` the element when done with it; elements are yielded at
    their end tag, children complete.
    """
    try:
        head = _read_head(stream, name=name)
        events = ET.iterparse(_Replay(head, stream), events=("start", "end"))  # noqa: S314
        root: ET.Element | None = None
        for event, elem in events:
            if root is None:
                root = elem
            if event == "end" and local_name(elem.tag) in tags:
                yield elem
                elem.clear()
                root.clear()  # drop the finished children so memory stays flat
    except ET.ParseError as exc:
        raise InputError(f"malformed XML: {exc}", path=name) from exc
    except DECOMPRESSION_ERRORS as exc:
        raise InputError(f"cannot decompress: {exc}", path=name) from exc


def local_name(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rpartition("}")[2]
