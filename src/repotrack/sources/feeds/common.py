"""What every feed parser shares: a problem report for a line that was skipped.

Feeds are maintained by hand or by scripts of other teams, so one bad line must not
stop a load: parsers return the records they could read together with one
``Problem`` per line they skipped, and the loader reports those problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["Parsed", "Problem", "numbered_lines"]

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """A skipped line (1-based ``line``; 0 when the problem is not tied to a line)."""

    source: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.message}"


@dataclass
class Parsed(Generic[T]):
    """Records read from one feed document, and the lines that were skipped."""

    records: list[T] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """(1-based number, line) for every ``\n``-separated line, ``\r`` of CRLF removed.

    Not ``str.splitlines``: it also breaks at form feeds, ``\x1c``..``\x1e`` and
    Unicode line separators, which a feed line may legitimately contain.
    """
    return [(n, line.removesuffix("\r")) for n, line in enumerate(text.split("\n"), start=1)]
