"""librpm as the judge of parsed ranges: every comparison of a small pool of versions
asked of ``rpm.labelCompare`` at once, then looked up (tests/unit/rpm/librpm.py)."""

from __future__ import annotations

from collections.abc import Iterable

from repotrack.rpm import parse_evr
from repotrack.sources.vulns import AffectedRange
from tests.unit.rpm.librpm import EVRTriple, label_compare


def _triple(value: str, evr: bool) -> EVRTriple:
    if not evr:
        return ("0", value, None)
    epoch, version, release = parse_evr(value)
    return (epoch or "0", version, release)


class LibrpmOrder:
    """librpm's order of the given versions (``evr``: whole ``[E:]V-R`` strings)."""

    def __init__(self, values: Iterable[str], *, evr: bool = False) -> None:
        pool = sorted(set(values))
        pairs = [(a, b) for a in pool for b in pool]
        results = label_compare([(_triple(a, evr), _triple(b, evr)) for a, b in pairs])
        self.table = dict(zip(pairs, results, strict=True))

    def cmp(self, a: str, b: str) -> int:
        return self.table[a, b]

    def holds(self, v: str, found: AffectedRange) -> bool:
        """Whether ``found``'s bounds hold version ``v``."""
        if found.start and self.cmp(v, found.start) < 0:
            return False
        if found.end:
            c = self.cmp(v, found.end)
            return c < 0 if found.end_excluded else c <= 0
        return True
