"""Parsers of outside repository data into plain dataclasses: no database, no network.

- :mod:`~repotrack.sources.aptrpm`: ALT apt-rpm "date" snapshots (release, header lists,
  ``files/list`` with task.info and sha256 hash lists);
- :mod:`~repotrack.sources.repodata`: createrepo ``repodata/`` (repomd, primary,
  filelists, other), streamed with DTDs refused;
- :mod:`~repotrack.sources.rpmdir`: a plain directory of ``.rpm`` files.
"""

# The names are imported on first use (PEP 562), so that importing one submodule
# (``sources.task.stamp``, for a reload of unchanged tasks) does not import every parser.

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
        check_metadata_files,
        is_repodata_tree,
        iter_repodata_packages,
        metadata_path,
        read_repomd,
    )
    from repotrack.sources.rpmdir import RpmDirEntry, list_rpm_files

_HOME = {
    "ARCHS": "repotrack.sources.aptrpm",
    "AptComponent": "repotrack.sources.aptrpm",
    "AptTree": "repotrack.sources.aptrpm",
    "IndexEntry": "repotrack.sources.aptrpm",
    "is_apt_tree": "repotrack.sources.aptrpm",
    "iter_header_index": "repotrack.sources.aptrpm",
    "read_hash_list": "repotrack.sources.aptrpm",
    "read_release": "repotrack.sources.aptrpm",
    "read_task_info": "repotrack.sources.aptrpm",
    "scan_apt_tree": "repotrack.sources.aptrpm",
    "open_metadata": "repotrack.sources.compression",
    "MetaChangelog": "repotrack.sources.repodata",
    "MetaDependency": "repotrack.sources.repodata",
    "MetaFile": "repotrack.sources.repodata",
    "MetaPackage": "repotrack.sources.repodata",
    "RepomdEntry": "repotrack.sources.repodata",
    "check_metadata_files": "repotrack.sources.repodata",
    "is_repodata_tree": "repotrack.sources.repodata",
    "iter_repodata_packages": "repotrack.sources.repodata",
    "metadata_path": "repotrack.sources.repodata",
    "read_repomd": "repotrack.sources.repodata",
    "RpmDirEntry": "repotrack.sources.rpmdir",
    "list_rpm_files": "repotrack.sources.rpmdir",
}

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
    "check_metadata_files",
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


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
