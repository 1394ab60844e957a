"""Parsers of outside repository data into plain dataclasses: no database, no network.

- :mod:`~repotrack.sources.aptrpm`: ALT apt-rpm "date" snapshots (release, header lists,
  ``files/list`` with task.info and sha256 hash lists);
- :mod:`~repotrack.sources.repodata`: createrepo ``repodata/`` (repomd, primary,
  filelists, other), streamed with DTDs refused;
- :mod:`~repotrack.sources.rpmdir`: a plain directory of ``.rpm`` files.
"""

from repotrack.sources.aptrpm import (
    ARCHS,
    AptComponent,
    AptTree,
    IndexEntry,
    is_apt_tree,
    iter_header_index,
    read_hash_list,
    read_release,
    read_task_info,
    scan_apt_tree,
)
from repotrack.sources.compression import open_metadata
from repotrack.sources.repodata import (
    MetaChangelog,
    MetaDependency,
    MetaFile,
    MetaPackage,
    RepomdEntry,
    is_repodata_tree,
    iter_repodata_packages,
    metadata_path,
    read_repomd,
)
from repotrack.sources.rpmdir import RpmDirEntry, list_rpm_files

__all__ = [
    "ARCHS",
    "AptComponent",
    "AptTree",
    "IndexEntry",
    "MetaChangelog",
    "MetaDependency",
    "MetaFile",
    "MetaPackage",
    "RepomdEntry",
    "RpmDirEntry",
    "is_apt_tree",
    "is_repodata_tree",
    "iter_header_index",
    "iter_repodata_packages",
    "list_rpm_files",
    "metadata_path",
    "open_metadata",
    "read_hash_list",
    "read_release",
    "read_repomd",
    "read_task_info",
    "scan_apt_tree",
]
