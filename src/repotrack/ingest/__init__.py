"""Loaders: outside data -> ALTRepo rows, package sets, dedupe and atomic publishing.

``load_repo`` is the repository-snapshot loader that ``repotrack load repo``,
``repo_loader`` and the service's load jobs all call; ``RepoLoad`` carries its
arguments between them. ``load_task``/``load_tasks`` (with ``TaskLoad``) load girar
build tasks the same way, and ``load_vulns`` (with ``VulnLoad``) vulnerability feeds
(``repotrack load vulns``).

The names are imported on first use (PEP 562): importing one loader, or a worker
importing ``ingest.reader``, must not pay for every other loader's modules (the
vulnerability feeds bring an HTTP client, the tasks their own readers).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from repotrack.ingest.metadata import METADATA_ID_BIT, metadata_pkg_hash
    from repotrack.ingest.repo import load_repo
    from repotrack.ingest.repo_request import LoadProgress, LoadSummary, RepoLoad
    from repotrack.ingest.task import TaskLoad, TaskLoadSummary, load_task, load_tasks
    from repotrack.ingest.vulns import VulnLoad, VulnLoadSummary, load_vulns

_HOME = {
    "METADATA_ID_BIT": "metadata",
    "metadata_pkg_hash": "metadata",
    "LoadProgress": "repo_request",
    "LoadSummary": "repo_request",
    "RepoLoad": "repo_request",
    "load_repo": "repo",
    "TaskLoad": "task",
    "TaskLoadSummary": "task",
    "load_task": "task",
    "load_tasks": "task",
    "VulnLoad": "vulns",
    "VulnLoadSummary": "vulns",
    "load_vulns": "vulns",
}

__all__ = [
    "METADATA_ID_BIT",
    "LoadProgress",
    "LoadSummary",
    "RepoLoad",
    "TaskLoad",
    "TaskLoadSummary",
    "VulnLoad",
    "VulnLoadSummary",
    "load_repo",
    "load_task",
    "load_tasks",
    "load_vulns",
    "metadata_pkg_hash",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'repotrack.ingest' has no attribute {name!r}")
    value = getattr(import_module(f"repotrack.ingest.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
