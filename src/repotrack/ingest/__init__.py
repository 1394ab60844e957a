"""Loaders: outside data -> ALTRepo rows, package sets, dedupe and atomic publishing.

``load_repo`` is the repository-snapshot loader that ``repotrack load repo``,
``repo_loader`` and the service's load jobs all call; ``RepoLoad`` carries its
arguments between them. ``load_task``/``load_tasks`` (with ``TaskLoad``) load girar
build tasks the same way, and ``load_vulns`` (with ``VulnLoad``) vulnerability feeds
(``repotrack load vulns``).
"""

from repotrack.ingest.metadata import METADATA_ID_BIT, metadata_pkg_hash
from repotrack.ingest.repo import LoadProgress, LoadSummary, RepoLoad, load_repo
from repotrack.ingest.task import TaskLoad, TaskLoadSummary, load_task, load_tasks
from repotrack.ingest.vulns import VulnLoad, VulnLoadSummary, load_vulns

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
