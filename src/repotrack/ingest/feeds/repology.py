"""``load repology`` (§5.7): ALT package name -> repology project, into ``PackagesNameConversion``.

altrepodb has no loader for this table (its API only reads it), so the rule is ours:

1. for each configured repology repo (``alt_sisyphus``, ``alt_p10``, ...), read every
   project that has a package there: ``/api/v1/projects/?inrepo=<repo>`` answers up
   to ``PAGE_SIZE`` projects, the next page starts at ``/api/v1/projects/<last>/``;
   a local JSON file (offline) holds all projects at once;
2. compare with the stored state (``argMax(pnc_state, ts)`` per mapping of source
   ``repology``): a new or returning mapping gets an ``active`` row, a stored active
   mapping that repology no longer lists gets an ``inactive`` row (the table is a
   ReplacingMergeTree on ``ts``, so the newest row is the mapping's state);
3. everything in one insert after all pages are read, so a failed page adds nothing.
"""

from __future__ import annotations

import json

from repotrack.errors import UpstreamError
from repotrack.ingest.feeds.result import FeedResult
from repotrack.ingest.feeds.source import FeedSource
from repotrack.sources.feeds import NameConversion, parse_repology_projects
from repotrack.store import Store

__all__ = ["MAX_PAGES", "PAGE_SIZE", "load_repology"]

PAGE_SIZE = 200
MAX_PAGES = 2000
SOURCE_NAME = "repology"
_COLUMNS = ("pkg_name", "pnc_result", "pnc_type", "pnc_state", "pnc_source")
_STATE = """
    SELECT pkg_name, pnc_result, pnc_type, argMax(pnc_state, ts)
    FROM PackagesNameConversion
    WHERE pnc_source = 'repology' AND pnc_type IN {repos:Array(String)}
    GROUP BY pkg_name, pnc_result, pnc_type
"""


def load_repology(store: Store, source: FeedSource, *, repos: list[str]) -> FeedResult:
    result = FeedResult("repology")
    fetched: set[NameConversion] = set()
    for repo in repos:
        fetched |= _read_repo(source, repo, result)
    stored = {
        NameConversion(name, project, repo): state
        for name, project, repo, state in store.query(_STATE, {"repos": repos})
    }
    rows = [
        (m.pkg_name, m.project, m.repo, "active", SOURCE_NAME)
        for m in sorted(fetched, key=_order)
        if stored.get(m) != "active"
    ]
    rows += [
        (m.pkg_name, m.project, m.repo, "inactive", SOURCE_NAME)
        for m, state in sorted(stored.items(), key=lambda item: _order(item[0]))
        if state == "active" and m not in fetched
    ]
    if rows:
        store.insert("PackagesNameConversion", _COLUMNS, rows)
    result.rows = len(rows)
    return result


def _order(mapping: NameConversion) -> tuple[str, str, str]:
    return (mapping.repo, mapping.pkg_name, mapping.project)


def _read_repo(source: FeedSource, repo: str, result: FeedResult) -> set[NameConversion]:
    found: set[NameConversion] = set()
    rel = ""
    for _ in range(MAX_PAGES):
        document = source.document(rel, params=None if source.local else {"inrepo": repo})
        if document is None:
            break
        parsed = parse_repology_projects(
            document.content, source=source.where(rel), repos=frozenset({repo})
        )
        result.add_problems(parsed.problems)
        found.update(parsed.records)
        projects = _project_names(document.content)
        if source.local or len(projects) < PAGE_SIZE:
            return found
        following = [name for name in projects if name > rel.rstrip("/")]
        if not following:
            return found
        rel = f"{max(following)}/"
    raise UpstreamError(f"more than {MAX_PAGES} pages for {repo}", url=source.where())


def _project_names(content: bytes) -> list[str]:
    data = json.loads(content)
    return sorted(data) if isinstance(data, dict) else []
