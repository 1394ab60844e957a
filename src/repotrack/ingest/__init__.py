"""Loaders: outside data -> ALTRepo rows, package sets, dedupe and atomic publishing.

``load_repo`` is the repository-snapshot loader that ``repotrack load repo``,
``repo_loader`` and the service's load jobs all call; ``RepoLoad`` carries its
arguments between them. ``load_vulns`` / ``VulnLoad`` do the same for vulnerability
feeds (``repotrack load vulns``).
"""

from repotrack.ingest.metadata import METADATA_ID_BIT, metadata_pkg_hash
from repotrack.ingest.repo import LoadProgress, LoadSummary, RepoLoad, load_repo
from repotrack.ingest.vulns import VulnLoad, VulnLoadSummary, load_vulns

__all__ = [
    "METADATA_ID_BIT",
    "LoadProgress",
    "LoadSummary",
    "RepoLoad",
    "VulnLoad",
    "VulnLoadSummary",
    "load_repo",
    "load_vulns",
    "metadata_pkg_hash",
]
