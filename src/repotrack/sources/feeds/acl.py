"""ALT's acl lists (``list.packages.<branch>``, ``list.groups.<branch>``; §5.1).

Each line is ``<package or @group>\\t<nick> <nick> ...``; the first nick leads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from repotrack.sources.feeds.common import Parsed, Problem, numbered_lines

__all__ = ["AclLine", "acl_list_branch", "parse_acl_list"]

_LIST_FILE = re.compile(r"^list\.(packages|groups)\.(.+)$")
_NICK = re.compile(r"^@?[A-Za-z0-9][A-Za-z0-9._+-]*$")


@dataclass(frozen=True)
class AclLine:
    """Who may commit to ``acl_for`` (a package or ``@group``); ``members[0]`` leads."""

    acl_for: str
    members: tuple[str, ...]


def acl_list_branch(file_name: str) -> str | None:
    """The branch of an acl list file (``list.packages.c8.1`` -> ``c8.1``), else None.

    Everything after the second dot is the branch, as in the original (whose
    ``re.split(r"\\W+", name, 2)`` splits at most twice, so it also keeps ``c8.1``).
    """
    match = _LIST_FILE.match(file_name)
    return match.group(2) if match else None


def parse_acl_list(text: str, *, source: str) -> Parsed[AclLine]:
    """Lines of one list file; blank lines are ignored, lines without a nick are problems."""
    parsed: Parsed[AclLine] = Parsed()
    for number, raw in numbered_lines(text):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, *members = line.split()
        bad = [m for m in (name, *members) if not _NICK.match(m)]
        if not members or bad:
            reason = f"bad name {bad[0]!r}" if bad else "no members"
            parsed.problems.append(Problem(source, number, reason))
            continue
        parsed.records.append(AclLine(acl_for=name, members=tuple(members)))
    return parsed
