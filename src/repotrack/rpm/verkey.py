"""rpm's version order written as bytes: ``a < b`` as bytes iff ``rpmvercmp(a, b) < 0``.

Why: the store compares package versions with vulnerability ranges in SQL. A key whose
plain byte order is rpm's order lets ClickHouse use ``<``/``>`` (and its indexes) with no
UDF and no Python in the loop; the keys are computed once, when a range or a package
version first enters the store.

How (rpmio/rpmvercmp.cc, see reference/rpm-format.md §10): separators are dropped and
the rest is a sequence of tokens — maximal digit runs, maximal ASCII letter runs, ``~``
and ``^`` — compared token by token. Between token kinds rpm's order is::

    ~  <  end of string  <  ^  <  letters  <  digits        (upstream librpm)
    ~  <  end of string  <  digits  <  letters              (ALT Linux: letters newer; no ^)

Each token is written as one kind byte in that order, then its content:

- letters: the bytes and a 0x00 terminator, so a shorter run that is a prefix of a
  longer one sorts first, as in a byte comparison of the runs;
- digits: leading zeros dropped, then the length (one byte up to 254; 0xFF and four
  bytes beyond), then the digits: a longer number is larger, equal lengths compare
  digit by digit;
- ``~`` and ``^``: the kind byte alone.

The string ends with the end byte. No token's encoding is a prefix of a different
token's, and the end byte only occurs where a token starts, so keys of whole strings
are prefix-free as well: keys of several fields (epoch, version, release) can be
concatenated and still compare field by field. Keys are equal exactly when rpmvercmp
says 0 (``1.0`` and ``1_0`` share a key).

ALT's rpm (4.13 fork) reverses the letter/digit rule and has no ``^``: there it is a
separator like ``.``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from typing import Final

__all__ = ["VersionOrder", "evr_key", "version_key"]


class VersionOrder(StrEnum):
    """Which rpm decides: upstream librpm or ALT Linux's fork."""

    RPM = "rpm"
    ALT = "alt"


_TILDE: Final = 0x01
_END: Final = 0x02
_CARET: Final = 0x03
_LOW_KIND: Final = 0x04
_HIGH_KIND: Final = 0x05
_LONG_NUMBER: Final = 0xFF

#: A missing release sorts before every release string, even the empty one.
_NO_RELEASE: Final = b"\x00"

_TOKENS: Final = {
    VersionOrder.RPM: re.compile(r"[0-9]+|[A-Za-z]+|[~^]"),
    VersionOrder.ALT: re.compile(r"[0-9]+|[A-Za-z]+|~"),
}


@lru_cache(maxsize=65536)
def version_key(text: str, order: VersionOrder = VersionOrder.RPM) -> bytes:
    """The sortable key of one version (or release) string.

    Remembered: a vulnerability feed's bounds repeat (``2.0``, ``1.1.1``; each range's
    two bounds in both orders), as do a branch's releases (``alt1``).
    """
    text = text.split("\0", 1)[0]
    letters_kind, digits_kind = (
        (_LOW_KIND, _HIGH_KIND) if order is VersionOrder.RPM else (_HIGH_KIND, _LOW_KIND)
    )
    out = bytearray()
    for token in _TOKENS[order].findall(text):
        first = token[0]
        if first == "~":
            out.append(_TILDE)
        elif first == "^":
            out.append(_CARET)
        elif first <= "9":
            out.append(digits_kind)
            out += _number(token.lstrip("0"))
        else:
            out.append(letters_kind)
            out += token.encode("ascii")
            out.append(0)
    out.append(_END)
    return bytes(out)


def _number(digits: str) -> bytes:
    size = len(digits)
    if size < _LONG_NUMBER:
        return bytes([size]) + digits.encode("ascii")
    return bytes([_LONG_NUMBER]) + size.to_bytes(4, "big") + digits.encode("ascii")


def evr_key(
    epoch: int | str | None,
    version: str,
    release: str | None,
    order: VersionOrder = VersionOrder.RPM,
) -> bytes:
    """The key of a whole EVR, ordered like ``rpm.labelCompare``.

    A missing epoch is "0" and epochs compare as version strings (so "" sorts before
    "0", as in librpm); a missing release sorts before any release.
    """
    epoch_text = "0" if epoch is None else str(epoch)
    release_part = _NO_RELEASE if release is None else version_key(release, order)
    return version_key(epoch_text, order) + version_key(version, order) + release_part
