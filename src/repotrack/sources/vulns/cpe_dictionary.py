"""The NVD CPE dictionary: product names to map to.

Two forms are read (reference/vuln-formats.md §3):

- the legacy XML dictionary (``official-cpe-dictionary_v2.3.xml``): each ``cpe-item``
  gives a CPE 2.2 name, a title, and its ``cpe-23:cpe23-item@name``. It is streamed
  (``xmlstream``: no DTD). Real copies end with junk after the root element (extra
  closing tags): the items read before it are kept and the junk is reported as one
  ``RecordProblem``;
- what NVD offers now: the CPE API 2.0 pages and the 2.0 feed's chunks
  (``nvdcpe-2.0.tar.gz`` holds ``nvdcpe-2.0-chunk-*.json``), ``{"format": "NVD_CPE",
  "products": [{"cpe": {"cpeName", "deprecated", "titles": [{"title", "lang"}]}}]}``;
  the English title is taken.

Deprecated products are skipped in both.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

from repotrack.errors import InputError
from repotrack.sources.vulns.cpe import Cpe, parse_cpe
from repotrack.sources.vulns.jsondoc import load_json, need_dict, need_list, need_str
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
    """The products of one dictionary document (XML, or a CPE 2.0 JSON page or chunk)."""
    if data.lstrip()[:1] == b"{":
        yield from _json_products(data, path)
        return
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


def _json_products(data: bytes, path: str) -> Iterator[CpeEntry | RecordProblem]:
    document = load_json(data, path=path)
    if not isinstance(document, dict) or not isinstance(document.get("products"), list):
        raise InputError("neither a CPE dictionary nor a CPE API 2.0 page (no products)", path=path)
    for index, product in enumerate(document["products"]):
        try:
            item = need_dict(need_dict(product, "products[]").get("cpe"), "products[].cpe")
            if item.get("deprecated") is True:
                continue
            name = need_str(item.get("cpeName"), "cpeName")
            titles = [need_dict(t, "titles[]") for t in need_list(item.get("titles"), "titles")]
            title = next((str(t.get("title", "")) for t in titles if t.get("lang") == "en"), "")
            yield CpeEntry(name, parse_cpe(name), title or str(titles[0].get("title", "")))
        except (ValueError, TypeError, IndexError) as exc:
            yield RecordProblem(f"{path}: products[{index}]", str(exc))
