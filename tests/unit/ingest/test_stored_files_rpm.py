"""The ``Files`` rows a load stores equal what ``rpm -qp`` prints, file by file.

The reader is checked against rpm (tests/unit/rpm/test_rpm_fields.py) and the workers'
byte-level block against the decoded one (test_file_block.py); this test closes the chain
end to end: every test and third-party RPM is loaded into a real store, and each stored
file row (name through ``Files_view``, mode, size, mtime, flags, owner, group, link
target, verify flags, device, language, rdev, and the digest when the package's file
digests are MD5) is compared with rpm's own query of the same file.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from repotrack.ingest import load_repo
from repotrack.store import Store
from tests.conftest import need_tool
from tests.unit.ingest.test_load_repo import store  # noqa: F401 (the fixture)
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
    form = "[" + "\x1f".join(f"%{{{tag}}}" for tag in TAGS) + "\x1e]"
    out = run_rpm("-qp", "--nosignature", "--nodigest", "--qf", form, str(path))
    algo = text(run_rpm("-qp", "--nosignature", "--nodigest", "--qf", "%{FILEDIGESTALGO}",
                        str(path)))  # fmt: skip
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


def test_stored_files_equal_rpm_query(store: Store, tmp_path: Path) -> None:  # noqa: F811
    need_tool("rpm")
    tree = tmp_path / "tree"
    tree.mkdir()
    names: dict[str, Path] = {}
    for n, path in enumerate(all_rpms()):
        names[f"{n:03d}-{path.name}"] = path
        shutil.copy(path, tree / f"{n:03d}-{path.name}")
    summary = load_repo(store, branch="files", path=tree, date=date(2024, 5, 1))
    stored: dict[str, set[Row]] = {}
    for filename, *row in store.query(
        "SELECT P.pkg_filename, F.file_name, F.file_mode, F.file_size, "
        "toUnixTimestamp(F.file_mtime), F.file_flag, F.file_username, F.file_groupname, "
        "F.file_linkto, F.file_verifyflag, F.file_device, F.file_lang, F.file_rdev, "
        "lower(hex(F.file_md5)) FROM Files_view AS F "
        "INNER JOIN Packages_buffer AS P ON P.pkg_hash = F.pkg_hash"
    ):
        stored.setdefault(filename, set()).add(tuple(row))
    # A package stored once under two file names (the same header twice) has the rows of
    # one of them; both files list the same.
    packages = [name for (name,) in store.query("SELECT pkg_filename FROM Packages_buffer")]
    assert len(packages) == summary.new
    compared = 0
    for filename in packages:
        want = _rpm_files(names[filename])
        md5 = any(row[-1] is not None for row in want)
        got = {(*row[:-1], _digest(row[-1]) if md5 else None) for row in stored.get(filename, ())}
        assert got == want, filename
        compared += len(want)
    assert compared >= 15_000


def _digest(stored: object) -> str:
    """rpm prints no digest for a directory or a link, where the row holds zeros."""
    return "" if set(str(stored)) == {"0"} else str(stored)
