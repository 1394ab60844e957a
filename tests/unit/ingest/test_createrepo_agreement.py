"""What a load stores agrees with createrepo_c's metadata of the same RPMs.

createrepo_c reads the packages with its own C code (librpm's header API) and writes
what dnf and zypper read: ``primary.xml`` (identity, times, sizes, the file's SHA-256,
dependencies), ``filelists.xml`` (every path, directories and ghosts marked) and
``other.xml`` (changelogs). It is an outside reader of the same bytes, so each stored
package is compared with it field by field: the repository's own test RPMs, and the
third-party packages of ``../shared/fixtures/rpm`` (Fedora, CentOS 3/5/7, openSUSE, ALT,
rpm's and createrepo_c's test packages).

Where createrepo_c departs from the headers, librpm decides (``rpm -qp``): it leaves
requires out of ``primary.xml`` (``rpmlib(...)``, ``config(...)``, all ``libc.so.6``
ones but the newest, those the package provides itself, and ALT's set-versioned
library requires, ``libcrypt.so.1()(64bit) >= set:...``), so the stored requires are
compared with ``rpm -qp --requires`` and createrepo_c's must be among them; it moves a
changelog entry dated the same second as the one before it a second later, so dates
may differ by the entries' count (entries and their order must agree). A package whose
text holds control characters is refused by createrepo_c ("Forbidden control chars");
it is left out of the comparison.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from repotrack.ingest import load_repo
from repotrack.store import Store, open_store
from tests.conftest import DATA, FIXTURES, need_tool
from tests.unit.store.storeutil import fresh_store_url

_NS = {
    "c": "http://linux.duke.edu/metadata/common",
    "rpm": "http://linux.duke.edu/metadata/rpm",
    "f": "http://linux.duke.edu/metadata/filelists",
    "o": "http://linux.duke.edu/metadata/other",
}
_KINDS = {"provides": "provide", "requires": "require", "conflicts": "conflict",
          "obsoletes": "obsolete"}  # fmt: skip


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """(createrepo_c's packages by SHA-256, the store's packages by SHA-256)."""
    createrepo = need_tool("createrepo_c")
    tmp = tmp_path_factory.mktemp("agreement")
    tree = tmp / "tree"
    shutil.copytree(DATA / "rpms", tree / "own")
    if (FIXTURES / "rpm").is_dir():
        shutil.copytree(FIXTURES / "rpm", tree / "third-party", ignore=_not_rpm)
    out = tmp / "createrepo"
    out.mkdir()
    subprocess.run(
        [createrepo, "--quiet", "--changelog-limit", "100000", "--outputdir", str(out), str(tree)],
        check=True,
        capture_output=True,  # its "Forbidden control chars" warnings
    )
    theirs = _createrepo_packages(out / "repodata")
    for package in theirs.values():
        package["rpm_requires"] = _librpm_requires(tree / package["href"])
    with open_store(fresh_store_url(tmp_path_factory, tmp / "store")) as store:
        load_repo(store, branch="agree", path=tree, date=date(2024, 5, 1), workers=2)
        ours = _stored_packages(store)
    return theirs, ours


def _not_rpm(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if not n.endswith(".rpm") and not (Path(folder) / n).is_dir()]


def _librpm_requires(path: Path) -> set[str]:
    done = subprocess.run(
        ["rpm", "-qp", "--nosignature", "--qf", "[%{REQUIRENAME}\\n]", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return set(done.stdout.splitlines())


def _open(path: Path) -> Any:
    return gzip.open(path) if path.suffix == ".gz" else _zstd(path)


def _zstd(path: Path) -> Any:
    import zstandard

    return zstandard.open(path, "rb")


def _text(element: ET.Element | None) -> str:
    return "" if element is None or element.text is None else element.text


def _createrepo_packages(repodata: Path) -> dict[str, Any]:
    def parsed(kind: str) -> ET.Element:
        (path,) = repodata.glob(f"*-{kind}.xml.*")
        with _open(path) as stream:
            return ET.parse(stream).getroot()  # noqa: S314 (createrepo_c's output)

    packages: dict[str, Any] = {}
    for pkg in parsed("primary").findall("c:package", _NS):
        version, size, fmt = (pkg.find(f"c:{n}", _NS) for n in ("version", "size", "format"))
        assert version is not None and size is not None and fmt is not None
        time = pkg.find("c:time", _NS)
        assert time is not None
        fields = {
            "name": _text(pkg.find("c:name", _NS)),
            "arch": _text(pkg.find("c:arch", _NS)),
            "epoch": int(version.get("epoch") or 0),
            "version": version.get("ver"),
            "release": version.get("rel"),
            "buildtime": int(time.get("build") or 0),
            "size": int(size.get("installed") or 0),
            "archivesize": int(size.get("archive") or 0),
            "filesize": int(size.get("package") or 0),
            "sourcerpm": _text(fmt.find("rpm:sourcerpm", _NS)),
            "license": _text(fmt.find("rpm:license", _NS)),
            "summary": _text(pkg.find("c:summary", _NS)),
            "url": _text(pkg.find("c:url", _NS)),
        }
        deps = {
            kind: {e.get("name") for e in fmt.findall(f"rpm:{kind}/rpm:entry", _NS)}
            for kind in _KINDS
        }
        sha = _text(pkg.find("c:checksum", _NS))
        location = pkg.find("c:location", _NS)
        assert location is not None
        packages[sha] = {"fields": fields, "deps": deps, "href": location.get("href")}
    for pkg in parsed("filelists").findall("f:package", _NS):
        files = {(_text(f), f.get("type") or "file") for f in pkg.findall("f:file", _NS)}
        packages[pkg.get("pkgid") or ""]["files"] = files
    for pkg in parsed("other").findall("o:package", _NS):
        # oldest first, as createrepo_c writes them
        changelog = [(int(c.get("date") or 0), _text(c)) for c in pkg.findall("o:changelog", _NS)]
        packages[pkg.get("pkgid") or ""]["changelog"] = changelog
    return packages


def _stored_packages(store: Store) -> dict[str, Any]:
    rows = store.query(
        """
        SELECT lower(hex(H.pkgh_sha256)), P.pkg_hash, P.pkg_name,
            if(P.pkg_sourcepackage = 1, 'src', P.pkg_arch), P.pkg_epoch, P.pkg_version,
            P.pkg_release, P.pkg_buildtime, P.pkg_size, P.pkg_archivesize, P.pkg_filesize,
            if(P.pkg_sourcepackage = 1, '', P.pkg_sourcerpm), P.pkg_license, P.pkg_summary,
            P.pkg_url
        FROM Packages AS P INNER JOIN PackageHash AS H ON H.pkgh_mmh = P.pkg_hash
        """
    )
    names = ("name", "arch", "epoch", "version", "release", "buildtime", "size",
             "archivesize", "filesize", "sourcerpm", "license", "summary", "url")  # fmt: skip
    files: defaultdict[int, set[tuple[str, str]]] = defaultdict(set)
    for pkg_hash, name, kind, flag in store.query(
        "SELECT F.pkg_hash, N.fn_name, toString(F.file_class), F.file_flag FROM Files AS F "
        "INNER JOIN FileNames AS N ON N.fn_hash = F.file_hashname"
    ):
        kind = "dir" if kind == "directory" else "ghost" if flag & 64 else "file"
        files[pkg_hash].add((name, kind))
    deps: defaultdict[tuple[int, str], set[str]] = defaultdict(set)
    for pkg_hash, name, kind in store.query(
        "SELECT pkg_hash, dp_name, toString(dp_type) FROM Depends"
    ):
        deps[(pkg_hash, kind)].add(name)
    changelogs: defaultdict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for pkg_hash, place, when, text in store.query(
        "SELECT P.pkg_hash, N, toUInt32(C.date), T.chlog_text FROM Packages AS P "
        "ARRAY JOIN P.pkg_changelog AS C, arrayEnumerate(P.pkg_changelog) AS N "
        "INNER JOIN Changelog AS T ON T.chlog_hash = C.hash"
    ):
        changelogs[pkg_hash].append((place, when, text))
    return {
        sha: {
            "fields": dict(zip(names, rest, strict=True)),
            "deps": {kind: deps[(pkg_hash, t)] for kind, t in _KINDS.items()},
            "files": files[pkg_hash],
            # the header's order is newest first
            "changelog": [(when, text) for _, when, text in sorted(changelogs[pkg_hash])][::-1],
        }
        for sha, pkg_hash, *rest in rows
    }


def _common(compared: tuple[dict[str, Any], dict[str, Any]]) -> list[tuple[Any, Any]]:
    theirs, ours = compared
    both = sorted(set(theirs) & set(ours))
    # Every package createrepo_c lists is stored, apart from a file whose header another
    # file of the tree shares (stored once, under the first file's digests).
    assert len(both) >= len(theirs) - 1
    assert len(both) >= 30
    return [(theirs[sha], ours[sha]) for sha in both]


def test_identity_times_sizes_and_texts_agree(compared: Any) -> None:
    wrong = [
        (theirs["fields"]["name"], field, value, ours["fields"][field])
        for theirs, ours in _common(compared)
        for field, value in theirs["fields"].items()
        if ours["fields"][field] != value
    ]
    assert wrong == []


def test_file_lists_agree(compared: Any) -> None:
    wrong = [
        (theirs["fields"]["name"], sorted(theirs["files"] ^ ours["files"])[:5])
        for theirs, ours in _common(compared)
        if theirs["files"] != ours["files"]
    ]
    assert wrong == []
    assert sum(len(ours["files"]) for _, ours in _common(compared)) > 10_000


def test_dependencies_agree(compared: Any) -> None:
    wrong = []
    for theirs, ours in _common(compared):
        name = theirs["fields"]["name"]
        for kind in ("provides", "conflicts", "obsoletes"):
            if theirs["deps"][kind] != ours["deps"][kind]:
                wrong.append((name, kind, theirs["deps"][kind] ^ ours["deps"][kind]))
        if ours["deps"]["requires"] != theirs["rpm_requires"]:
            wrong.append((name, "rpm -qp", theirs["rpm_requires"] ^ ours["deps"]["requires"]))
        unstored = theirs["deps"]["requires"] - ours["deps"]["requires"]
        if unstored:
            wrong.append((name, "createrepo_c", unstored))
    assert wrong == []


def test_changelogs_agree(compared: Any) -> None:
    wrong = []
    for theirs, ours in _common(compared):
        mine = ours["changelog"]
        if len(mine) != len(theirs["changelog"]) or any(
            text != our_text or not 0 <= when - our_when < len(mine)
            for (when, text), (our_when, our_text) in zip(theirs["changelog"], mine, strict=True)
        ):
            wrong.append(theirs["fields"]["name"])
    assert wrong == []
    assert sum(len(ours["changelog"]) for _, ours in _common(compared)) > 400
