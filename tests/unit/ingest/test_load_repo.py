"""load_repo against a real chDB store: publish, dedupe, reload, changed snapshots, failures."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from repotrack.errors import ConflictError, InputError
from repotrack.ingest import METADATA_ID_BIT, load_repo, pipeline
from repotrack.rpm import read_rpm
from repotrack.store import Store
from tests.conftest import DATA, FIXTURES, need_fixtures, need_tool
from tests.unit.sources.treeutil import build_trees, copy_tree
from tests.unit.store.storeutil import open_fresh_store

DAY = date(2024, 5, 1)


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


@pytest.fixture
def started_pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The worker pools the test's loads start, recorded (their sizes)."""
    started: list[int] = []

    class Recorded(pipeline.ProcessPoolExecutor):
        def __init__(self, max_workers: int, **kwargs: Any) -> None:
            started.append(max_workers)
            super().__init__(max_workers, **kwargs)

    monkeypatch.setattr(pipeline, "ProcessPoolExecutor", Recorded)
    return started


def _roots(store: Store) -> list[tuple[object, ...]]:
    return store.query(
        "SELECT pkgset_nodename, toDate(pkgset_date), pkgset_tag, pkgset_complete, "
        "CAST((pkgset_kv.k, pkgset_kv.v), 'Map(String, String)') FROM PackageSetName "
        "WHERE pkgset_depth = 0 ORDER BY pkgset_date"
    )


def _count(store: Store, sql: str) -> int:
    return int(store.query(sql)[0][0])


def test_load_apt_tree(store: Store, trees: Path) -> None:
    summary = load_repo(store, branch="P10", path=trees / "apt", date=DAY, tag="nightly")
    assert (summary.branch, summary.kind, summary.new, summary.known) == ("p10", "apt-rpm", 8, 0)
    assert summary.files == _count(store, "SELECT count() FROM Files_view")
    ((name, day, tag, complete, kv),) = _roots(store)
    assert (name, day, tag, complete) == ("p10", DAY, "nightly", 1)
    assert kv["task"] == "283337" and kv["size"] == "8" and kv["type"] == "repo"
    assert kv["archs"] == "x86_64, noarch"
    nodes = store.query(
        "SELECT pkgset_nodename, pkgset_depth, pkgset_kv.v[indexOf(pkgset_kv.k, 'size')] "
        "FROM PackageSetName WHERE pkgset_ruuid = {r:UUID} AND pkgset_depth > 0 "
        "ORDER BY pkgset_depth, pkgset_nodename, 3",
        {"r": summary.root_uuid},
    )
    assert nodes == [
        ("noarch", 1, "0"),
        ("srpm", 1, "3"),
        ("x86_64", 1, "0"),
        ("classic", 2, "2"),
        ("classic", 2, "3"),
    ]
    ((members,),) = store.query(
        "SELECT count() FROM PackageSet_buffer WHERE pkgset_uuid IN "
        "(SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = {r:UUID})",
        {"r": summary.root_uuid},
    )
    assert members == 8
    assert _count(store, "SELECT count() FROM Specfiles_buffer") == 3
    ((spec,),) = store.query(
        "SELECT specfile_content FROM Specfiles_buffer WHERE specfile_name = 'rt-hello.spec'"
    )
    assert "Name:           rt-hello" in spec


def test_binaries_point_at_their_source(store: Store, trees: Path) -> None:
    load_repo(store, branch="p10", path=trees / "apt", date=DAY)
    rows = store.query(
        "SELECT b.pkg_name, s.pkg_name FROM Packages_buffer AS b INNER JOIN Packages_buffer AS s "
        "ON b.pkg_srcrpm_hash = s.pkg_hash WHERE b.pkg_sourcepackage = 0 "
        "AND s.pkg_sourcepackage = 1 ORDER BY 1"
    )
    assert rows == [
        ("rt-bz", "rt-bz"),
        ("rt-hello", "rt-hello"),
        ("rt-hello-doc", "rt-hello"),
        ("rt-hello-libs", "rt-hello"),
        ("rt-tilde", "rt-tilde"),
    ]


def test_package_hash_rows_hold_file_digests(store: Store, trees: Path) -> None:
    load_repo(store, branch="p10", path=trees / "apt", date=DAY)
    path = trees / "apt" / "files" / "x86_64" / "RPMS" / "rt-hello-1.2.3-4.rt1.x86_64.rpm"
    raw = path.read_bytes()
    rpm = read_rpm(path)
    ((md5, sha1, sha256, blake2b),) = store.query(
        "SELECT pkgh_md5, pkgh_sha1, pkgh_sha256, pkgh_blake2b FROM PackageHash_buffer "
        "WHERE pkgh_mmh = {h:UInt64}",
        {"h": rpm.pkg_hash},
    )
    assert md5 == hashlib.md5(raw, usedforsecurity=False).digest()
    assert sha1 == rpm.sha1header
    assert sha256 == hashlib.sha256(raw).digest()
    assert blake2b == hashlib.blake2b(raw).digest()


def test_same_date_again_is_refused_and_changes_nothing(store: Store, trees: Path) -> None:
    load_repo(store, branch="p10", path=trees / "apt", date=DAY)
    before = _count(store, "SELECT count() FROM PackageSetName")
    with pytest.raises(ConflictError, match="p10 2024-05-01 is already loaded"):
        load_repo(store, branch="P10", path=trees / "apt", date=DAY)
    assert _count(store, "SELECT count() FROM PackageSetName") == before


def test_force_reload_reads_nothing_new(store: Store, trees: Path) -> None:
    load_repo(store, branch="p10", path=trees / "apt", date=DAY)
    summary = load_repo(store, branch="p10", path=trees / "apt", date=DAY, force=True)
    assert (summary.new, summary.known, summary.files) == (0, 8, 0)
    assert len(_roots(store)) == 2
    assert _count(store, "SELECT count() FROM Packages_buffer") == 8


def test_changed_snapshot_reads_only_new_packages(
    store: Store, trees: Path, tmp_path: Path
) -> None:
    extra = need_fixtures("rpm", "createrepo_c", "fake_bash-1.1.1-1.x86_64.rpm")
    rpms = tmp_path / "rpms"
    shutil.copytree(DATA / "rpms", rpms)
    (rpms / "rt-tilde-2.0~rc1-1.noarch.rpm").unlink()
    shutil.copy(extra, rpms)
    changed = build_trees(tmp_path / "changed", rpms)
    load_repo(store, branch="p10", path=trees / "apt", date=DAY)
    summary = load_repo(store, branch="p10", path=changed / "apt", date=date(2024, 5, 2))
    assert (summary.new, summary.known) == (1, 7)
    assert _count(store, "SELECT count() FROM Packages_buffer") == 9
    sizes = [kv["size"] for *_, kv in _roots(store)]
    assert sizes == ["8", "8"]


def test_digest_mismatch_publishes_nothing(store: Store, trees: Path, tmp_path: Path) -> None:
    root = copy_tree(trees / "apt", tmp_path / "apt")
    target = root / "files" / "noarch" / "RPMS" / "rt-hello-doc-1.2.3-4.rt1.noarch.rpm"
    # A sound package, but not the one the index describes.
    shutil.copy(DATA / "rpms" / "rt-tilde-2.0~rc1-1.noarch.rpm", target)
    with pytest.raises(InputError, match=r"rt-hello-doc.*md5 digest mismatch"):
        load_repo(store, branch="p10", path=root, date=DAY)
    assert _roots(store) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_failure_midway_then_rerun_finishes(
    store: Store, tmp_path: Path, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package that cannot be read after others were stored: nothing visible; rerun completes."""
    monkeypatch.setattr(pipeline, "INLINE", 0)  # workers=2: read in worker processes
    tree = tmp_path / "tree"
    tree.mkdir()
    for rpm in (DATA / "rpms").glob("*.rpm"):
        shutil.copy(rpm, tree)
    for rpm in (FIXTURES / "rpm" / "fedora").glob("*.rpm"):
        shutil.copy(rpm, tree)
    victim = sorted(p for p in tree.glob("*.rpm") if not p.name.endswith(".src.rpm"))[-1]
    good = victim.read_bytes()
    victim.write_bytes(good[:2000])
    with pytest.raises(InputError, match=f"{victim.name}.*truncated"):
        load_repo(store, branch="p10", path=tree, date=DAY, workers=workers)
    assert _roots(store) == []
    stored = _count(store, "SELECT count(DISTINCT pkgh_mmh) FROM PackageHash_buffer")
    binaries = sorted(p for p in tree.glob("*.rpm") if not p.name.endswith(".src.rpm"))
    sources = [p for p in tree.glob("*.rpm") if p.name.endswith(".src.rpm")]
    assert stored == len(sources) + len(binaries) - 1  # everything before the bad one
    victim.write_bytes(good)
    summary = load_repo(store, branch="p10", path=tree, date=DAY)
    assert summary.known == stored
    assert summary.new == summary.packages - stored
    assert len(_roots(store)) == 1


def test_createrepo_tree_gives_the_same_packages(store: Store, trees: Path) -> None:
    apt = load_repo(store, branch="p10", path=trees / "apt", date=DAY)
    repo = load_repo(store, branch="fedora", path=trees / "createrepo", date=DAY)
    assert (apt.new, repo.new, repo.known) == (8, 0, 8)


def test_root_without_task_info_says_task_zero(store: Store, trees: Path) -> None:
    # The ALTRepo API reads toUInt32(kv['task']) of every root; a tree without task.info gives 0.
    load_repo(store, branch="p10", path=trees / "createrepo", date=DAY)
    ((_name, _day, _tag, _complete, kv),) = _roots(store)
    assert kv["task"] == "0"


def test_metadata_only_repository(store: Store, trees: Path, tmp_path: Path) -> None:
    bare = copy_tree(trees / "createrepo", tmp_path / "bare")
    for rpm in bare.glob("*.rpm"):
        rpm.unlink()
    summary = load_repo(store, branch="meta", path=bare, date=DAY)
    assert summary.new == 8
    hashes = [int(r[0]) for r in store.query("SELECT pkg_hash FROM Packages_buffer")]
    assert hashes and all(h & METADATA_ID_BIT for h in hashes)
    assert _count(store, "SELECT count() FROM Files_view") > 0
    again = load_repo(store, branch="meta", path=bare, date=date(2024, 5, 2))
    assert (again.new, again.known) == (0, 8)


@pytest.mark.parametrize("files", ["with RPMs", "metadata only"])
@pytest.mark.parametrize("kind", ["primary", "filelists", "other"])
def test_metadata_repomd_does_not_describe_is_refused(
    store: Store, trees: Path, tmp_path: Path, kind: str, files: str
) -> None:
    """A mirror caught between syncs: repomd.xml of one generation, a metadata file of
    another. Before 2026-12-07 the file was loaded as it was: a primary.xml that lacked
    a package published a snapshot without it, with exit 0 (createrepo_c, dnf and
    librepo check each file against the checksum repomd.xml records)."""
    root = copy_tree(trees / "createrepo", tmp_path / "mirror")
    if files == "metadata only":
        for rpm in root.glob("*.rpm"):
            rpm.unlink()
    (found,) = (root / "repodata").glob(f"*-{kind}.xml.gz")
    text = gzip.decompress(found.read_bytes()).decode()
    cut = text.replace("rt-tilde", "rt-tilda")  # another generation's file, sound XML
    assert cut != text
    found.write_bytes(gzip.compress(cut.encode()))
    digest = hashlib.sha256(found.read_bytes()).hexdigest()
    with pytest.raises(InputError, match=rf"{found}: its sha256 is {digest}, not [0-9a-f]{{64}}"):
        load_repo(store, branch="mirror", path=root, date=DAY)
    assert _roots(store) == []
    assert _count(store, "SELECT count() FROM Packages_buffer") == 0  # checked before reading


@pytest.mark.parametrize(
    "name",
    [
        "dnf5/repomd-repo1",
        "librepo/repo_yum_01",
        "createrepo_c/repo_01",
        "createrepo_c/repo_with_additional_metadata",
    ],
)
def test_third_party_repodata(store: Store, name: str) -> None:
    root = need_fixtures("repodata", *name.split("/"))
    summary = load_repo(store, branch="third", path=root, date=DAY)
    assert summary.new >= 1 and summary.kind == "repodata"
    assert _count(store, "SELECT count() FROM Packages_buffer") == summary.new


@pytest.mark.parametrize(
    ("inline", "pools"),
    [(0, [2]), (pipeline.INLINE, []), (7, [2])],
    ids=["in-workers", "a-handful-inline", "more-start-workers"],
)
def test_two_workers_give_the_same_rows(
    store: Store,
    trees: Path,
    monkeypatch: pytest.MonkeyPatch,
    started_pools: list[int],
    inline: int,
    pools: list[int],
) -> None:
    """The same rows whoever reads the packages. A load whose first new packages are no
    more than ``pipeline.INLINE`` (a daily snapshot) reads them without starting the
    workers: the fork server and its workers would cost more than reading them."""
    monkeypatch.setattr(pipeline, "INLINE", inline)
    summary = load_repo(store, branch="p10", path=trees / "apt", date=DAY, workers=2)
    assert (summary.new, summary.known) == (8, 0)
    assert _count(store, "SELECT count() FROM Specfiles_buffer") == 3
    assert started_pools == pools


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"branch": "a b"}, "bad branch name"), ({"workers": 0}, "workers")],
)
def test_bad_arguments(store: Store, trees: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"branch": "p10", "path": trees / "apt", "date": DAY}
    args.update(kwargs)
    with pytest.raises(InputError, match=message):
        load_repo(store, **args)  # type: ignore[arg-type]


def test_files_beside_baseurl_metadata_are_read(store: Store, tmp_path: Path) -> None:
    """A mirror of a repository whose metadata names a base URL (``createrepo_c
    --baseurl``) has the files at their ``href``: they are read (real ``pkg_hash``,
    checked against the metadata's checksum), not stood in for by the metadata."""
    createrepo = need_tool("createrepo_c")
    repo = tmp_path / "mirror"
    repo.mkdir()
    rpms = [p for p in (DATA / "rpms").glob("*.rpm")]
    for rpm in rpms:
        shutil.copy(rpm, repo)
    subprocess.run(
        [createrepo, "--quiet", "--baseurl", "http://mirror.example.org/x/", str(repo)],
        check=True,
    )
    summary = load_repo(store, branch="mirror", path=repo, date=DAY)
    assert summary.new == len(rpms)
    stored = {int(h) for (h,) in store.query("SELECT pkg_hash FROM Packages_buffer")}
    assert stored == {read_rpm(p).pkg_hash for p in rpms}


def _plain_tree_with_a_copy(root: Path) -> Path:
    """Every test RPM, plus one of them a second time under another directory."""
    root.mkdir()
    for rpm in (DATA / "rpms").glob("*.rpm"):
        shutil.copy(rpm, root)
    (root / "again").mkdir()
    shutil.copy(DATA / "rpms" / "rt-hello-1.2.3-4.rt1.x86_64.rpm", root / "again")
    return root


@pytest.mark.parametrize("workers", [1, 2])
def test_a_store_without_packages_reads_without_looking_up(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Nothing can be found in a store that holds no package: the header-only reads
    that look packages up are skipped, and every file is read in full. A package in
    the tree twice still counts once, and its rows are written once."""
    tree = _plain_tree_with_a_copy(tmp_path / "tree")
    looked_up: list[str] = []
    real = pipeline.identify_package
    monkeypatch.setattr(pipeline, "identify_package", lambda p: looked_up.append(p) or real(p))
    summary = load_repo(store, branch="p10", path=tree, date=DAY, workers=workers)
    assert looked_up == []
    rpms = sorted((DATA / "rpms").glob("*.rpm"))
    assert (summary.new, summary.known) == (len(rpms), 1)
    rpm_tool = need_tool("rpm")
    files = {  # librpm's count of each package's files
        read_rpm(p).pkg_hash: subprocess.run(
            [rpm_tool, "-qp", "--qf", "[%{BASENAMES}\n]", str(p)],
            check=True, capture_output=True, text=True,
        ).stdout.count("\n")
        for p in rpms
    }  # fmt: skip
    stored = dict(store.query("SELECT pkg_hash, count() FROM Files GROUP BY pkg_hash"))
    assert stored == {h: n for h, n in files.items() if n}
    assert _count(store, "SELECT count() FROM Packages") == len(rpms)
    assert _count(store, "SELECT count() FROM PackageHash") == len(rpms)
    ((size,),) = store.query(
        "SELECT pkgset_kv.v[indexOf(pkgset_kv.k, 'size')] FROM PackageSetName "
        "WHERE pkgset_ruuid = {r:UUID} AND pkgset_depth = 0",
        {"r": summary.root_uuid},
    )
    assert size == str(len(rpms))
    # The next load looks its packages up (the store holds some now): all known.
    again = load_repo(store, branch="p10", path=tree, date=date(2024, 5, 2), workers=workers)
    assert (again.new, again.known) == (0, len(rpms) + 1)
    assert len(looked_up) == len(rpms) + 1
