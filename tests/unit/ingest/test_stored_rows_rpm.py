"""The ``Packages``, ``Files`` and ``Depends`` rows a load stores equal ``rpm -qp``'s.

The reader is checked against rpm (tests/unit/rpm/test_rpm_fields.py) and the workers'
byte-level block against the decoded one (test_file_block.py); this test closes the chain
end to end: every test and third-party RPM is loaded into a real store, and each stored
file row (name through ``Files_view``, mode, size, mtime, flags, owner, group, link
target, verify flags, device, language, rdev, and the digest when the package's file
digests are MD5) is compared with rpm's own query of the same file, and so is each
package's list of requires, provides, conflicts and obsoletes with versions and raw flags,
and its ``Packages`` columns that come from one header tag each (with the source rule:
a source package records its own file name as ``pkg_sourcerpm``).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from repotrack.ingest import load_repo
from repotrack.store import Store
from tests.conftest import need_tool
from tests.unit.rpm.support import all_rpms, run_rpm, text

TAGS = (
    "FILENAMES", "FILEMODES", "FILESIZES", "LONGFILESIZES", "FILEMTIMES", "FILEFLAGS",
    "FILEUSERNAME", "FILEGROUPNAME", "FILELINKTOS", "FILEVERIFYFLAGS", "FILEDEVICES",
    "FILELANGS", "FILERDEVS", "FILEDIGESTS",
)  # fmt: skip
_FIELD, _ITEM = b"\x1f", b"\x1e"
_MD5 = ("(none)", "1")  # FILEDIGESTALGO of packages whose file digests are MD5

Row = tuple[object, ...]


def _rpm_files(path: Path) -> set[Row]:
    form = "%{FILEDIGESTALGO}\x1d[" + "\x1f".join(f"%{{{tag}}}" for tag in TAGS) + "\x1e]"
    done = run_rpm("-qp", "--nosignature", "--nodigest", "--qf", form, str(path))
    head, _, out = done.partition(b"\x1d")
    algo = text(head)
    rows = set()
    for item in out.split(_ITEM):
        if not item:
            continue
        v = dict(zip(TAGS, (text(x) for x in item.split(_FIELD)), strict=True))
        size = v["FILESIZES"] if v["FILESIZES"] != "(none)" else v["LONGFILESIZES"]
        rows.add((
            v["FILENAMES"], int(v["FILEMODES"]) & 0xFFFF, int(size) & 0xFFFFFFFF,
            int(v["FILEMTIMES"]), int(v["FILEFLAGS"]), v["FILEUSERNAME"], v["FILEGROUPNAME"],
            v["FILELINKTOS"], int(v["FILEVERIFYFLAGS"]), int(v["FILEDEVICES"]),
            v["FILELANGS"], int(v["FILERDEVS"]) & 0xFFFF,
            v["FILEDIGESTS"] if algo in _MD5 else None,
        ))  # fmt: skip
    return rows


def _load_all(store: Store, tmp_path: Path) -> tuple[dict[str, Path], list[str]]:
    """Every test and third-party RPM loaded as one tree: file name → fixture path, and
    the file names of the stored packages (a header met twice is stored once)."""
    need_tool("rpm")
    tree = tmp_path / "tree"
    tree.mkdir()
    names: dict[str, Path] = {}
    for n, path in enumerate(all_rpms()):
        names[f"{n:03d}-{path.name}"] = path
        shutil.copy(path, tree / f"{n:03d}-{path.name}")
    summary = load_repo(store, branch="files", path=tree, date=date(2024, 5, 1))
    packages = [name for (name,) in store.query("SELECT pkg_filename FROM Packages_buffer")]
    assert len(packages) == summary.new
    return names, packages


def test_stored_files_equal_rpm_query(store: Store, tmp_path: Path) -> None:
    names, packages = _load_all(store, tmp_path)
    stored = _by_package(
        store,
        "SELECT P.pkg_filename, F.file_name, F.file_mode, F.file_size, "
        "toUnixTimestamp(F.file_mtime), F.file_flag, F.file_username, F.file_groupname, "
        "F.file_linkto, F.file_verifyflag, F.file_device, F.file_lang, F.file_rdev, "
        "lower(hex(F.file_md5)) FROM Files_view AS F "
        "INNER JOIN Packages_buffer AS P ON P.pkg_hash = F.pkg_hash",
    )
    compared = 0
    for filename in packages:
        want = _rpm_files(names[filename])
        md5 = any(row[-1] is not None for row in want)
        rows = stored.get(filename, [])
        got = {(*row[:-1], _digest(row[-1]) if md5 else None) for row in rows}
        assert len(got) == len(rows), filename
        assert got == want, filename
        compared += len(want)
    assert compared >= 15_000


def _by_package(store: Store, sql: str) -> dict[str, list[Row]]:
    """The rows of ``sql`` (package file name first) by package file name."""
    rows: dict[str, list[Row]] = {}
    for filename, *row in store.query(sql):
        rows.setdefault(filename, []).append(tuple(row))
    return rows


def _digest(stored: object) -> str:
    """rpm prints no digest for a directory or a link, where the row holds zeros."""
    return "" if set(str(stored)) == {"0"} else str(stored)


_KINDS = {
    "require": "REQUIRE",
    "provide": "PROVIDE",
    "conflict": "CONFLICT",
    "obsolete": "OBSOLETE",
}


def test_stored_depends_equal_rpm_query(store: Store, tmp_path: Path) -> None:
    names, packages = _load_all(store, tmp_path)
    stored = _by_package(
        store,
        "SELECT P.pkg_filename, toString(D.dp_type), D.dp_name, D.dp_version, D.dp_flag "
        "FROM Depends_buffer AS D INNER JOIN Packages_buffer AS P ON P.pkg_hash = D.pkg_hash",
    )
    compared = 0
    for filename in packages:
        # One query for the four kinds, \x1d between them.
        form = "\x1d".join(
            f"[%{{{tag}NAME}}\x1f%{{{tag}VERSION}}\x1f%{{{tag}FLAGS}}\x1e]"
            for tag in _KINDS.values()
        )
        out = run_rpm("-qp", "--nosignature", "--nodigest", "--qf", form, str(names[filename]))
        want: list[Row] = []
        for kind, part in zip(_KINDS, out.split(b"\x1d"), strict=True):
            for item in filter(None, part.split(_ITEM)):
                name, version, flags = item.split(_FIELD)
                want.append((kind, text(name), text(version), int(flags)))
        assert sorted(stored.get(filename, [])) == sorted(want), filename
        compared += len(want)
    assert compared >= 600


#: ``Packages`` columns taken from one header tag each, and the tag rpm prints them from
#: (a missing tag is the empty string or 0 in the row, "(none)" in rpm's output).
_COLUMNS = {
    "pkg_name": "NAME", "pkg_version": "VERSION", "pkg_release": "RELEASE",
    "pkg_buildtime": "BUILDTIME", "pkg_buildhost": "BUILDHOST",
    "pkg_rpmversion": "RPMVERSION", "pkg_cookie": "COOKIE", "pkg_disttag": "DISTTAG",
    "pkg_summary": "SUMMARY", "pkg_description": "DESCRIPTION",
    "pkg_distribution": "DISTRIBUTION", "pkg_vendor": "VENDOR", "pkg_license": "LICENSE",
    "pkg_group_": "GROUP", "pkg_url": "URL", "pkg_os": "OS", "pkg_prein": "PREIN",
    "pkg_postin": "POSTIN", "pkg_preun": "PREUN", "pkg_postun": "POSTUN",
    "pkg_verifyscript": "VERIFYSCRIPT", "pkg_optflags": "OPTFLAGS", "pkg_disturl": "DISTURL",
    "pkg_payloadformat": "PAYLOADFORMAT", "pkg_payloadcompressor": "PAYLOADCOMPRESSOR",
    "pkg_payloadflags": "PAYLOADFLAGS", "pkg_platform": "PLATFORM",
}  # fmt: skip


def test_stored_package_columns_equal_rpm_query(store: Store, tmp_path: Path) -> None:
    names, packages = _load_all(store, tmp_path)
    columns = ", ".join(_COLUMNS)
    stored = _by_package(
        store,
        f"SELECT pkg_filename, pkg_epoch, pkg_arch, pkg_sourcepackage, pkg_sourcerpm, "  # noqa: S608
        f"pkg_size, pkg_archivesize, pkg_filesize, {columns} FROM Packages_buffer",
    )
    form = "\x1f".join(
        ["%{EPOCH}", "%{ARCH}", "%{SOURCEPACKAGE}", "%{SOURCERPM}", "%{LONGSIZE}",
         "%{LONGARCHIVESIZE}", *(f"%{{{tag}}}" for tag in _COLUMNS.values())]
    )  # fmt: skip
    for filename in packages:
        path = names[filename]
        out = run_rpm("-qp", "--nosignature", "--nodigest", "--qf", form, str(path))
        epoch, arch, source, srpm, size, archive, *tags = (
            "" if v == "(none)" else v for v in (text(x) for x in out.split(_FIELD))
        )
        ((row),) = stored[filename]
        got_epoch, got_arch, got_source, got_srpm, got_size, got_archive, got_file, *rest = row
        is_source = source == "1" or not srpm
        assert (got_epoch, got_arch, got_source) == (int(epoch or 0), arch, int(is_source))
        assert got_srpm == (filename if is_source else srpm), filename
        assert (got_size, got_archive) == (int(size or 0), int(archive or 0)), filename
        assert got_file == path.stat().st_size
        want = [
            int(v or 0) if c == "pkg_buildtime" else v for c, v in zip(_COLUMNS, tags, strict=True)
        ]
        assert list(rest) == want, filename
