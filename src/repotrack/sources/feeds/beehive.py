"""Beehive build results (§5.2): ``time.list``, ``ftbfs-since`` and build-log names.

Beehive rebuilds every source package of a branch daily; ``latest/time.list`` names
each SRPM built with its build time, ``latest/error/`` and ``latest/success/`` hold one
log per package named ``<name>-<version>-<release>``, and ``stats/.../ftbfs-since``
says since when a package has failed to build.
"""

from __future__ import annotations

from dataclasses import dataclass

from repotrack.sources.feeds.common import Parsed, Problem, numbered_lines

__all__ = ["BuildTime", "Nvr", "parse_ftbfs_since", "parse_nvr", "parse_time_list"]


@dataclass(frozen=True)
class Nvr:
    name: str
    version: str
    release: str


@dataclass(frozen=True)
class BuildTime:
    nvr: Nvr
    seconds: float


def parse_nvr(file_name: str) -> Nvr:
    """``name-version-release[.src.rpm]`` -> Nvr, by ALT's rule.

    The last two ``-`` parts are version and release only when the release starts with
    ``alt``; otherwise the whole name is the package name (with no version). An
    ``epoch:`` prefix of the version is dropped.
    """
    base = file_name.removesuffix(".src.rpm")
    parts = base.rsplit("-", 2)
    if len(parts) == 3 and parts[2].startswith("alt") and parts[0]:
        name, version, release = parts
        return Nvr(name, version.rpartition(":")[2], release)
    return Nvr(base, "", "")


def parse_time_list(text: str, *, source: str) -> Parsed[BuildTime]:
    """``<srpm file name>\\t<seconds>`` lines."""
    parsed: Parsed[BuildTime] = Parsed()
    for number, raw in numbered_lines(text):
        if not raw.strip():
            continue
        fields = raw.split()
        if len(fields) != 2:
            parsed.problems.append(Problem(source, number, "expected <srpm>\\t<seconds>"))
            continue
        try:
            seconds = float(fields[1])
        except ValueError:
            parsed.problems.append(Problem(source, number, f"bad build time {fields[1]!r}"))
            continue
        parsed.records.append(BuildTime(parse_nvr(fields[0]), seconds))
    return parsed


def parse_ftbfs_since(text: str, *, source: str) -> Parsed[tuple[str, int]]:
    """``<name>\\t<unix seconds>`` lines -> (bare package name, timestamp)."""
    parsed: Parsed[tuple[str, int]] = Parsed()
    for number, raw in numbered_lines(text):
        if not raw.strip():
            continue
        fields = raw.split()
        if len(fields) != 2 or not fields[1].isdigit():
            parsed.problems.append(Problem(source, number, "expected <name>\\t<unix time>"))
            continue
        parsed.records.append((fields[0], int(fields[1])))
    return parsed
