"""CPE 2.3 formatted strings (NISTIR 7695): split on unescaped ``:``, unescape the parts.

ALTRepo matches a CVE's ``cpeMatch`` with a package's CPE on the triplet
(vendor, product, target_sw) of the unescaped parts (reference/altrepo.md §6.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

__all__ = ["Cpe", "parse_cpe", "quote_cpe_part"]

_FIELDS: Final = 13  # "cpe", "2.3" and eleven attributes


@dataclass(frozen=True)
class Cpe:
    """The unescaped attributes of a CPE 2.3 name (``*`` = any, ``-`` = not applicable)."""

    part: str
    vendor: str
    product: str
    version: str
    update: str
    target_sw: str


@lru_cache(maxsize=16384)
def parse_cpe(text: str) -> Cpe:
    """Parse ``cpe:2.3:part:vendor:product:version:...``; ``ValueError`` names what is wrong.

    Remembered (a ``Cpe`` is immutable): a feed names the same few criteria many times
    over (one product in many records, one record's ranges over one product), and a
    load parses each range's CPE twice, once for the range and once for its row.
    """
    parts = text.split(":") if "\\" not in text else _split_escaped(text)
    if len(parts) != _FIELDS or parts[0] != "cpe" or parts[1] != "2.3":
        raise ValueError(f"{text!r} is not a CPE 2.3 formatted string of 13 fields")
    if parts[2] not in ("a", "o", "h", "*"):
        raise ValueError(f"CPE {text!r} has an unknown part {parts[2]!r}")
    return Cpe(
        part=parts[2],
        vendor=parts[3],
        product=parts[4],
        version=parts[5],
        update=parts[6],
        target_sw=parts[10],
    )


def _split_escaped(text: str) -> list[str]:
    """The attributes of a CPE that has escapes: split on unescaped ``:``, unescaped."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ":":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if escaped:
        raise ValueError(f"CPE {text!r} ends with a lone backslash")
    parts.append("".join(current))
    return parts


def quote_cpe_part(value: str) -> str:
    """Escape a free-text name for use as one CPE attribute (CVE 5 vendor/product)."""
    out = []
    for ch in value.strip().lower().replace(" ", "_"):
        if not (ch.isascii() and (ch.isalnum() or ch == "_")):
            out.append("\\")
        out.append(ch)
    return "".join(out)
