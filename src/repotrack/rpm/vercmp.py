"""librpm's version comparison: ``rpmvercmp`` and whole-EVR comparison.

This follows rpmio/rpmvercmp.cc of rpm >= 4.15 (tilde and caret) exactly; it is checked
against the real ``rpm`` on thousands of pairs. Letters and digits are ASCII only: every
other character, including non-ASCII letters, is a separator, as in librpm.

ALT Linux's order (its rpm 4.13 fork: an alphabetic segment is newer than a numeric
one, ``^`` is a separator) is asked for with ``order=VersionOrder.ALT``; it compares the
sortable keys of ``verkey``, which are checked against ALT's own ``rpmvercmp`` and
``rpmEVRDTCompare`` (tests/data/alt-vercmp). Upstream's stays the default: a branch's
order is configuration (``vulns.branch_orders``), see docs/rpm.md.
"""

from __future__ import annotations

import re
from typing import Final

from repotrack.rpm.verkey import VersionOrder, evr_key, version_key

__all__ = ["EVR", "compare_evr", "parse_evr", "rpmvercmp"]

# Segments after separators are dropped: maximal digit runs, maximal letter runs, ~ and ^.
_SEGMENT: Final = re.compile(r"[0-9]+|[A-Za-z]+|[~^]")

EVR = tuple[int | str | None, str, str | None]


def rpmvercmp(a: str, b: str, order: VersionOrder = VersionOrder.RPM) -> int:
    """Compare two version (or release) strings like librpm (or ALT's rpm): -1, 0 or 1.

    0 does not mean the strings are equal ("1.0" and "1_0" compare equal).
    """
    if order is VersionOrder.ALT:
        return _sign(version_key(a, order), version_key(b, order))
    a = a.split("\0", 1)[0]
    b = b.split("\0", 1)[0]
    if a == b:
        return 0
    xs = _SEGMENT.findall(a)
    ys = _SEGMENT.findall(b)
    i = j = 0
    nx, ny = len(xs), len(ys)
    while i < nx or j < ny:
        x = xs[i] if i < nx else ""
        y = ys[j] if j < ny else ""
        if x == "~" or y == "~":  # tilde sorts before anything, even the end
            if x != "~":
                return 1
            if y != "~":
                return -1
        elif x == "^" or y == "^":  # caret sorts after the end but before anything else
            if not x:
                return -1
            if not y:
                return 1
            if x != "^":
                return 1
            if y != "^":
                return -1
        elif not x or not y:
            break
        else:
            rc = _compare_segments(x, y)
            if rc:
                return rc
        i += 1
        j += 1
    if i >= nx and j >= ny:
        return 0
    return -1 if i >= nx else 1


def _compare_segments(x: str, y: str) -> int:
    if x[0] <= "9":  # a digit run (the pattern guarantees ASCII)
        if y[0] > "9":
            return 1  # a numeric segment beats an alphabetic one
        x = x.lstrip("0")
        y = y.lstrip("0")
        if len(x) != len(y):
            return 1 if len(x) > len(y) else -1
    elif y[0] <= "9":
        return -1
    if x == y:
        return 0
    return 1 if x > y else -1


def compare_evr(a: EVR, b: EVR, order: VersionOrder = VersionOrder.RPM) -> int:
    """Compare ``(epoch, version, release)`` triples like ``rpm.labelCompare`` (or, with
    ``order=VersionOrder.ALT``, like ALT's ``rpmEVRDTCompare`` without disttags).

    A missing epoch (None) counts as 0 (rpm >= 4.4.2.1); an empty one ("") sorts before
    "0", as ``rpm.labelCompare`` has it; epochs compare as numbers. A missing release is
    older than any release (the empty one included) and equal to another missing one.
    """
    if order is VersionOrder.ALT:
        return _sign(evr_key(*a, order), evr_key(*b, order))
    rc = rpmvercmp(_epoch(a[0]), _epoch(b[0]))
    if rc:
        return rc
    rc = rpmvercmp(a[1], b[1])
    if rc:
        return rc
    ra, rb = a[2], b[2]
    if ra is None or rb is None:
        return (ra is not None) - (rb is not None)
    return rpmvercmp(ra, rb)


def _sign(a: bytes, b: bytes) -> int:
    return (a > b) - (a < b)


def _epoch(value: int | str | None) -> str:
    """An absent epoch is 0; an empty one stays empty and sorts before "0", as in librpm."""
    return "0" if value is None else str(value)


def parse_evr(text: str) -> tuple[str | None, str, str | None]:
    """Split ``[E:]V[-R]`` like librpm's parseEVR: epoch only before the first ':' when it
    is all digits (``":1"`` gives epoch "0"), release after the last '-'."""
    epoch: str | None = None
    rest = text
    head, sep, tail = text.partition(":")
    if sep and head.isascii() and (head.isdigit() or head == ""):
        epoch = head or "0"
        rest = tail
    version, sep, release = rest.rpartition("-")
    if not sep:
        return epoch, rest, None
    return epoch, version, release
