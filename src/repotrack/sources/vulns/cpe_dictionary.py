"""The NVD CPE dictionary (``official-cpe-dictionary_v2.3.xml``): product names to map to.

Each ``cpe-item`` gives a CPE 2.2 name, a title, and its ``cpe-23:cpe23-item@name``;
``deprecated="true"`` items are skipped. The dictionary is streamed (``xmlstream``: no
DTD). Real copies end with junk after the root element (extra closing tags): the items
read before it are kept and the junk is reported as one ``RecordProblem``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

from repotrack.errors import InputError
from repotrack.sources.vulns.cpe import Cpe, parse_cpe
from repotrack.sources.vulns.records import RecordProblem
from repotrack.sources.xmlstream import iter_elements, local_name

__all__ = ["CpeEntry", "parse_cpe_dictionary"]


@dataclass(frozen=True)
class CpeEntry:
    """One dictionary product: the CPE 2.3 name, its parsed parts and title."""

    name: str
    cpe: Cpe
    title: str


def parse_cpe_dictionary(data: bytes, *, path: str) -> Iterator[CpeEntry | RecordProblem]:
    items = iter_elements(io.BytesIO(data), name=path, tags=frozenset({"cpe-item"}))
    count = 0
    try:
        for element in items:
            count += 1
            if element.get("deprecated") == "true":
                continue
            name = next(
                (c.get("name", "") for c in element if local_name(c.tag) == "cpe23-item"), ""
            )
            title = next((c.text or "" for c in element if local_name(c.tag) == "title"), "")
            try:
                yield CpeEntry(name, parse_cpe(name), title.strip())
            except ValueError as exc:
                yield RecordProblem(f"{path}: cpe-item[{count - 1}]", str(exc))
    except InputError as exc:
        if count == 0:
            raise
        yield RecordProblem(path, f"{exc.reason} (after {count} items, which were read)")
