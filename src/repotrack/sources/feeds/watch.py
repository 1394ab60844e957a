"""watch-total.txt (§5.5): which packages have a newer upstream version.

TSV lines ``<maintainer nick>\\t<package>\\t<old version>\\t<new version>\\t<url>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from repotrack.sources.feeds.common import Parsed, Problem, numbered_lines

__all__ = ["WatchLine", "parse_watch"]


@dataclass(frozen=True)
class WatchLine:
    acl: str
    pkg_name: str
    old_version: str
    new_version: str
    url: str


def parse_watch(text: str, *, source: str) -> Parsed[WatchLine]:
    parsed: Parsed[WatchLine] = Parsed()
    for number, raw in numbered_lines(text):
        if not raw.strip():
            continue
        fields = raw.split("\t")
        if len(fields) != 5 or not all(f.strip() for f in fields[:4]):
            parsed.problems.append(Problem(source, number, "expected 5 tab-separated fields"))
            continue
        parsed.records.append(WatchLine(*(f.strip() for f in fields)))
    return parsed
