"""What a repository load will do: the package-set nodes and, per phase, the packages.

Three kinds of tree are understood, recognised in this order:

- an ALT apt-rpm "date" snapshot (has ``files/list``; ALTRepo §2.2): nodes ``srpm``,
  one per arch directory, one per component (depth 2, under its arch);
- a createrepo tree (has ``repodata/repomd.xml``), with or without the RPM files
  beside it: nodes ``srpm`` (if there are sources) and one per binary arch;
- any other directory: every ``*.rpm`` below it; nodes ``srpm`` and one per arch,
  taken from the ``name-version-release.<arch>.rpm`` file-name convention.

Sources always come first (phase 1), so that a binary's ``pkg_srcrpm_hash`` can be
looked up among the sources of the same set. Jobs are produced lazily: an index is
read as the load goes, never held whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from repotrack.errors import InputError
from repotrack.ingest.reader import PackageJob
from repotrack.ingest.rows import Digests
from repotrack.sources import (
    AptTree,
    MetaPackage,
    check_metadata_files,
    is_apt_tree,
    is_repodata_tree,
    iter_header_index,
    iter_repodata_packages,
    list_rpm_files,
    metadata_path,
    read_hash_list,
    scan_apt_tree,
)

__all__ = ["NodeSpec", "TreePlan", "plan_tree"]

SRPM_NODE = "srpm"
_ARCH_IN_NAME = re.compile(r"\.([A-Za-z0-9_]+)\.rpm$")

JobSource = Callable[[], Iterator[PackageJob]]


@dataclass(slots=True)
class NodeSpec:
    """A non-root package-set node: name, depth (1 or 2), parent key, extra kv.

    ``key`` tells nodes of the same name apart (``classic`` exists under every arch);
    jobs name their node by key. It defaults to the name.
    """

    name: str
    depth: int
    type: str
    parent: str | None = None
    kv: dict[str, str] = field(default_factory=dict)
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            self.key = self.name


@dataclass(slots=True)
class TreePlan:
    """Nodes in the order their rows are written, and the phases of jobs."""

    kind: str
    nodes: list[NodeSpec]
    phases: list[JobSource]
    root_kv: dict[str, str] = field(default_factory=dict)


def plan_tree(path: Path) -> TreePlan:
    """Recognise the tree at ``path`` and plan its load; InputError if it is unusable."""
    if not path.is_dir():
        raise InputError("repository path is not a directory", path=str(path))
    if is_apt_tree(path):
        return _plan_apt(scan_apt_tree(path))
    if any((path / a / "base").is_dir() for a in ("src", "x86_64", "noarch", "i586", "aarch64")):
        raise InputError("not an apt-rpm snapshot: files/list is missing", path=str(path))
    if is_repodata_tree(path):
        return _plan_repodata(path)
    return _plan_rpm_dir(path)


# -- apt-rpm ---------------------------------------------------------------------------
def _plan_apt(tree: AptTree) -> TreePlan:
    nodes = [NodeSpec(SRPM_NODE, 1, "srpm", kv={"SRPMS": ", ".join(tree.srpms_paths)})]
    nodes += [NodeSpec(arch, 1, "arch", kv={"path": arch}) for arch in tree.archs]
    nodes += [
        NodeSpec(c.name, 2, "comp", parent=c.arch, kv={"path": c.path}, key=c.path)
        for c in tree.components
    ]
    root_kv = dict(tree.task_info)
    root_kv["archs"] = ", ".join(tree.archs)
    root_kv["comps"] = ", ".join(dict.fromkeys(c.name for c in tree.components))
    return TreePlan(
        kind="apt-rpm",
        nodes=nodes,
        phases=[lambda: _apt_sources(tree), lambda: _apt_binaries(tree)],
        root_kv=root_kv,
    )


def _apt_sources(tree: AptTree) -> Iterator[PackageJob]:
    index: dict[str, Digests] = {}
    for srclist in tree.srclists:
        for entry in iter_header_index(srclist):
            index.setdefault(entry.filename, Digests(md5=entry.md5, blake2b=entry.blake2b))
    sha256 = _hash_list(tree, "src")
    for name in sha256:
        if name not in index and (tree.srpms_dir / name).is_file():
            index[name] = Digests()  # in the hash list only; skipped when absent (mipsel/e2k)
    for name, digests in index.items():
        path = _inside(tree.srpms_dir, name)
        if not path.is_file():
            raise InputError("source package listed in srclist is missing", path=str(path))
        expected = Digests(md5=digests.md5, blake2b=digests.blake2b, sha256=sha256.get(name, b""))
        yield PackageJob(name, True, SRPM_NODE, path=str(path), expected=expected)


def _apt_binaries(tree: AptTree) -> Iterator[PackageJob]:
    for comp in tree.components:
        sha256 = _hash_list(tree, comp.arch)
        for entry in iter_header_index(comp.pkglist):
            path = _inside(comp.rpms_dir, entry.filename)
            if not path.is_file():
                raise InputError("package listed in pkglist is missing", path=str(path))
            expected = Digests(
                md5=entry.md5, blake2b=entry.blake2b, sha256=sha256.get(entry.filename, b"")
            )
            yield PackageJob(entry.filename, False, comp.path, path=str(path), expected=expected)


def _hash_list(tree: AptTree, arch: str) -> dict[str, bytes]:
    path = tree.hash_list(arch)
    return read_hash_list(path) if path.is_file() else {}


def _inside(directory: Path, name: str) -> Path:
    if "/" in name or name in ("", ".", ".."):
        raise InputError(f"bad package file name {name!r} in the index", path=str(directory))
    return directory / name


# -- createrepo ------------------------------------------------------------------------
def _plan_repodata(root: Path) -> TreePlan:
    check_metadata_files(root)  # before any package of it is read or stored
    archs: dict[str, None] = {}
    has_sources = False
    for meta in iter_repodata_packages(root, details=False):
        if meta.is_source:
            has_sources = True
        else:
            archs[meta.arch] = None
    nodes = [NodeSpec(SRPM_NODE, 1, "srpm")] if has_sources else []
    nodes += [NodeSpec(arch, 1, "arch", kv={"path": arch}) for arch in sorted(archs)]
    phases: list[JobSource] = [lambda: _repodata_jobs(root, False)]
    if has_sources:  # each pass parses all three files; skip the one that finds nothing
        phases.insert(0, lambda: _repodata_jobs(root, True))
    return TreePlan(
        kind="repodata",
        nodes=nodes,
        phases=phases,
        root_kv={"archs": ", ".join(sorted(archs)), "format": "repodata"},
    )


def _repodata_jobs(root: Path, sources: bool) -> Iterator[PackageJob]:
    for meta in iter_repodata_packages(root, sources=sources):
        node = SRPM_NODE if sources else meta.arch
        expected = _pkgid_digests(meta.checksum_type, meta.pkgid, root)
        # A base URL (``createrepo_c --baseurl``) says where the files are served from; a
        # mirror keeps them at ``href`` all the same. A file found there is read (and
        # checked against the metadata's checksum); only a missing one is stood in for.
        path = _local_file(root, meta)
        if path is not None:
            yield PackageJob(meta.filename, sources, node, path=str(path), expected=expected)
        else:
            yield PackageJob(meta.filename, sources, node, meta=meta)


def _local_file(root: Path, meta: MetaPackage) -> Path | None:
    """The package's file under ``root``, if it is there. An ``href`` that leaves the
    repository is refused, unless a base URL says the files live elsewhere anyway."""
    try:
        path = metadata_path(root, meta.location_href)
    except InputError:
        if meta.location_base:
            return None
        raise
    return path if path.is_file() else None


def _pkgid_digests(kind: str, pkgid: str, root: Path) -> Digests:
    """The file digest the metadata records, when it is one we also compute."""
    try:
        raw = bytes.fromhex(pkgid)
    except ValueError:
        raise InputError(f"bad package checksum {pkgid!r}", path=str(root / "repodata")) from None
    if kind == "sha256" and len(raw) == 32:
        return Digests(sha256=raw)
    if kind == "md5" and len(raw) == 16:
        return Digests(md5=raw)
    return Digests()


# -- plain directory -------------------------------------------------------------------
def _plan_rpm_dir(root: Path) -> TreePlan:
    entries = list_rpm_files(root)
    if not entries:
        raise InputError("no .rpm files, repodata/ or apt-rpm layout found", path=str(root))
    archs = sorted({_arch_of(e.relpath) for e in entries if not e.source})
    nodes = [NodeSpec(SRPM_NODE, 1, "srpm")] if any(e.source for e in entries) else []
    nodes += [NodeSpec(arch, 1, "arch", kv={"path": arch}) for arch in archs]

    def jobs(sources: bool) -> Iterator[PackageJob]:
        for e in entries:
            if e.source == sources:
                node = SRPM_NODE if sources else _arch_of(e.relpath)
                yield PackageJob(e.relpath.rpartition("/")[2], sources, node, path=e.path)

    return TreePlan(
        kind="rpm-dir",
        nodes=nodes,
        phases=[lambda: jobs(True), lambda: jobs(False)],
        root_kv={"archs": ", ".join(archs), "format": "rpm-dir"},
    )


def _arch_of(relpath: str) -> str:
    match = _ARCH_IN_NAME.search(relpath)
    return match.group(1) if match else "unknown"
