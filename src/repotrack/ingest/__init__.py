"""Loaders: outside data -> ALTRepo rows, package sets, dedupe and atomic publishing.

``load_repo`` is the repository-snapshot loader that ``repotrack load repo``,
``repo_loader``, the REST API and AMQP messages all call.
"""

from repotrack.ingest.metadata import METADATA_ID_BIT, metadata_pkg_hash
from repotrack.ingest.repo import LoadProgress, LoadSummary, load_repo

__all__ = ["METADATA_ID_BIT", "LoadProgress", "LoadSummary", "load_repo", "metadata_pkg_hash"]
