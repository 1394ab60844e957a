"""Repology project data (§5.7): which repology project an ALT package belongs to.

Repology's ``/api/v1/projects/`` answers a JSON object ``{project: [package, ...]}``;
each package names its ``repo`` (``alt_sisyphus``, ``alt_p10``) and its source name
(``srcname``, else ``binname``). Those pairs feed ``PackagesNameConversion`` with
``pnc_type`` = the repology repo, ``pkg_name`` = the ALT name, ``pnc_result`` = the
project; the vulnerability mapping then goes ALT name -> project -> CPE.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from repotrack.errors import InputError
from repotrack.sources.feeds.common import Parsed, Problem

__all__ = ["NameConversion", "parse_repology_projects"]


@dataclass(frozen=True)
class NameConversion:
    pkg_name: str
    project: str
    repo: str


def parse_repology_projects(
    data: bytes, *, source: str, repos: frozenset[str]
) -> Parsed[NameConversion]:
    """The (ALT name, project) pairs of ``repos``; entries without a name are problems."""
    try:
        projects: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not JSON: {exc}", path=source) from exc
    if not isinstance(projects, dict):
        raise InputError("expected a JSON object of projects", path=source)
    parsed: Parsed[NameConversion] = Parsed()
    seen: set[NameConversion] = set()
    for project, packages in projects.items():
        if not isinstance(packages, list):
            parsed.problems.append(Problem(source, 0, f"project {project!r}: not a list"))
            continue
        for package in packages:
            if not isinstance(package, dict) or package.get("repo") not in repos:
                continue
            name = package.get("srcname") or package.get("binname")
            if not isinstance(name, str) or not name:
                parsed.problems.append(Problem(source, 0, f"project {project!r}: no name"))
                continue
            record = NameConversion(name, project, package["repo"])
            if record not in seen:
                seen.add(record)
                parsed.records.append(record)
    return parsed
