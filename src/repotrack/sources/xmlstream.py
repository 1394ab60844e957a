"""Streaming XML with the prolog checked first: no DTD, hence no entity expansion.

``xml.etree.ElementTree.iterparse`` is the right tool for metadata files of hundreds
of megabytes, but expat expands internal entities declared in a DTD (a few hundred
bytes can declare a "billion laughs"). A DTD can only appear in the prolog, before
the root element, so the prolog is scanned here and any ``<!DOCTYPE`` is refused
before a single byte reaches the parser. Without a DTD, only the five predefined
entities and character references exist; anything else is an expat error.

The parser is fed in chunks and watched between them, so that nothing grows without
bound: at most ``MetadataLimits.max_element`` bytes may pass between the ends of two
wanted elements (one ``<package>`` with everything in it, or a 3 GiB text node, or
31 M stray siblings), and finished children of the root are dropped after every
chunk. An element spanning more than ``max_field`` bytes has its text and attribute
values checked against that limit before it is handed out (smaller ones cannot hold
a longer field). The checks cost nothing per XML event: the per-event loop is the
same as a plain ``iterparse``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import BinaryIO, cast

from repotrack.errors import InputError
from repotrack.sources.compression import DECOMPRESSION_ERRORS
from repotrack.sources.limits import DEFAULT_LIMITS, MetadataLimits

__all__ = ["iter_elements", "local_name", "root_name"]

#: The prolog (declaration, comments, processing instructions) must fit in this many bytes.
MAX_PROLOG = 64 * 1024
#: Tags whose local names ``local_name`` remembers, at most.
_LOCAL_KEPT = 4096
_LOCAL: dict[str, str] = {}
_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_CHUNK = 64 * 1024


def root_name(data: bytes, *, name: str) -> str | None:
    """The local name of a document's root element, read past its prolog as the parser
    will read it (None: no root element in the first ``MAX_PROLOG`` bytes). Lets a
    reader refuse another kind of file by name (``<repomd>`` is not ``<updates>``)."""
    head = data[:MAX_PROLOG]
    pos = _root_at(head, name=name)
    found = _TAG.match(head, pos) if pos is not None else None
    return local_name(found[1].decode("ascii").replace(":", "}", 1)) if found else None


def _prolog_end(head: bytes, *, name: str) -> bool:
    """True when ``head`` reaches the root element past a harmless prolog; False: read more."""
    return _root_at(head, name=name) is not None


def _root_at(head: bytes, *, name: str) -> int | None:
    """Where the root element starts in ``head``, past a harmless prolog; None: read more."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00", b"<\x00")):
        raise InputError("only UTF-8 XML is accepted", path=name)
    pos = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while pos < len(head) and head[pos : pos + 1].isspace():
            pos += 1
        if len(head) - pos < 9:
            return None
        if head.startswith(b"<?", pos):
            terminator = b"?>"
        elif head.startswith(b"<!--", pos):
            terminator = b"-->"
        elif head.startswith(b"<!", pos):
            raise InputError("XML with a DTD (<!DOCTYPE) is refused", path=name, offset=pos)
        else:
            return pos
        end = head.find(terminator, pos)
        if end < 0:
            return None
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


def iter_elements(
    stream: BinaryIO,
    *,
    name: str,
    tags: frozenset[str],
    limits: MetadataLimits = DEFAULT_LIMITS,
) -> Iterator[ET.Element]:
    """Yield each completed element whose local name is in ``tags``.

    Elements are yielded at their end tag, children complete, and cleared once the
    caller moves on. Raises ``InputError`` naming ``name`` for malformed XML, a DTD,
    or an element beyond ``limits``.
    """
    try:
        yield from _parse(stream, name=name, tags=tags, limits=limits)
    except ET.ParseError as exc:
        raise InputError(f"malformed XML: {exc}", path=name) from exc
    except DECOMPRESSION_ERRORS as exc:
        raise InputError(f"cannot decompress: {exc}", path=name) from exc


def _parse(
    stream: BinaryIO, *, name: str, tags: frozenset[str], limits: MetadataLimits
) -> Iterator[ET.Element]:
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    chunk = _read_head(stream, name=name)
    root: ET.Element | None = None
    fed = 0
    #: Bytes fed when the last wanted element ended: what follows belongs to the next.
    mark = 0
    #: Whether a (namespaced) tag is wanted, per tag seen: a document names a few dozen
    #: tags in millions of elements.
    wanted: dict[str, bool] = {}
    while True:
        if chunk:
            parser.feed(chunk)
            fed += len(chunk)
        else:
            parser.close()
        for event, elem in cast(Iterator[tuple[str, ET.Element]], parser.read_events()):
            if event != "end":
                if root is None:
                    root = elem
                continue
            hit = wanted.get(elem.tag)
            if hit is None:
                hit = wanted[elem.tag] = local_name(elem.tag) in tags
            if hit:
                if fed - mark > limits.max_field:
                    _check_fields(elem, name=name, limit=limits.max_field)
                yield elem
                elem.clear()
                mark = fed
        if not chunk:
            return
        if root is not None:
            # Finished children of the root nobody asked for go now, with each chunk;
            # an unfinished one stays alive in the parser and is yielded complete.
            root.clear()
        if fed - mark > limits.max_element:
            raise InputError(
                f"an XML element spans more than {limits.max_element} bytes (the element limit)",
                path=name,
                offset=mark,
            )
        chunk = stream.read(_CHUNK)


def _check_fields(elem: ET.Element, *, name: str, limit: int) -> None:
    for node in elem.iter():
        values = [node.text or "", node.tail or "", *node.attrib.values()]
        if any(len(value) > limit for value in values):
            raise InputError(
                f"<{local_name(node.tag)}> holds a value longer than {limit} characters "
                "(the field limit)",
                path=name,
            )


def local_name(tag: str) -> str:
    """``{namespace}name`` -> ``name`` (remembered: a document names a few dozen tags in
    millions of elements, and readers ask for each child's name)."""
    found = _LOCAL.get(tag)
    if found is None:
        found = tag.rpartition("}")[2]
        if len(_LOCAL) < _LOCAL_KEPT:  # a hostile document's endless new tags are not kept
            _LOCAL[tag] = found
    return found
