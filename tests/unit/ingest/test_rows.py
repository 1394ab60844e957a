"""Header and metadata -> rows: ALTRepo's mapping rules, on real RPMs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from repotrack.ingest.metadata import (
    METADATA_ID_BIT,
    metadata_depend_columns,
    metadata_file_columns,
    metadata_pkg_hash,
    metadata_rows,
)
from repotrack.ingest.reader import PackageJob, read_package
from repotrack.ingest.rows import (
    file_class,
    header_depend_columns,
    header_file_columns,
    package_arch,
    split_changelog_name,
    split_packager,
)
from repotrack.rpm import mmhash, read_rpm
from repotrack.sources import MetaPackage, iter_repodata_packages
from repotrack.store.native import RawColumn
from tests.conftest import DATA, need_fixtures

RPMS = DATA / "rpms"


def _rpm(name: str) -> Path:
    path = RPMS / name
    if not path.is_file():
        pytest.skip(f"{path} missing; run tests/data/make_rpms.sh")
    return path


def _read(path: Path, *, source: bool = False) -> object:
    return read_package(PackageJob(path.name, source, "node", path=str(path)))


_CLASSES = ["file", "directory", "symlink", "socket", "block", "char", "fifo"]


def _file_rows(path: Path) -> list[tuple[object, ...]]:
    """Files rows as tuples (class by name), from the columns the loader encodes."""
    rpm = read_rpm(path)
    columns: list[Any] = list(header_file_columns(rpm.merged, rpm.pkg_hash))
    if isinstance(columns[3], RawColumn):  # file_md5, laid out in one piece
        raw = columns[3].payload
        columns[3] = [
            raw[i : i + 16].strip(b"\0") and raw[i : i + 16] for i in range(0, len(raw), 16)
        ]
    assert len({len(c) for c in columns}) == 1
    return [(*row[:14], _CLASSES[row[14]]) for row in zip(*columns, strict=True)]


def _depend_rows(path: Path) -> list[tuple[object, ...]]:
    rpm = read_rpm(path)
    return list(zip(*header_depend_columns(rpm.merged, rpm.pkg_hash), strict=True))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Joe Doe <joe at example.org>", ("Joe Doe", "joe@example.org")),
        ("Joe <joe@example.org>", ("Joe", "joe@example.org")),
        ("Fedora Project", ("Fedora Project", "")),
        ("", ("", "")),
        ("<only@mail>", ("", "only@mail")),
    ],
)
def test_split_packager(text: str, expected: tuple[str, str]) -> None:
    assert split_packager(text) == expected


def test_split_changelog_name() -> None:
    assert split_changelog_name("A B <a@b.c> 1:2.0-alt1") == ("A B <a@b.c>", "1:2.0-alt1")
    assert split_changelog_name("no mail here") == ("no mail here", "")
    assert split_changelog_name("A <a@b.c> - 1.0-1") == ("A <a@b.c>", "1.0-1")


def test_i586_rule() -> None:
    assert package_arch("i586-glibc", "i586") == "x86_64-i586"
    assert package_arch("glibc", "i586") == "i586"


@pytest.mark.parametrize(
    ("mode", "kind"),
    [(0o100644, "file"), (0o040755, "directory"), (0o120777, "symlink"), (0o020666, "char")],
)
def test_file_class(mode: int, kind: str) -> None:
    assert file_class(mode) == kind


def test_binary_package_rows() -> None:
    path = _rpm("rt-hello-1.2.3-4.rt1.x86_64.rpm")
    rows = read_package(PackageJob(path.name, False, "x", path=str(path)))
    rpm = read_rpm(path)
    assert rows.pkg_hash == rpm.pkg_hash
    p = rows.package
    assert (p["pkg_name"], p["pkg_epoch"], p["pkg_version"], p["pkg_release"]) == (
        "rt-hello",
        3,
        "1.2.3",
        "4.rt1",
    )
    assert (p["pkg_packager"], p["pkg_packager_email"]) == (
        "Test Packager",
        "packager@example.invalid",
    )
    assert p["pkg_sourcepackage"] == 0
    assert p["pkg_sourcerpm"] == "rt-hello-1.2.3-4.rt1.src.rpm"
    assert p["pkg_filename"] == path.name and p["pkg_filesize"] == path.stat().st_size
    assert p["pkg_cs"] == rows.digests.sha1 == rpm.sha1header
    assert p["pkg_preinprog"] == ["/bin/sh"]
    assert p["pkg_changelog.evr"] == ["3:1.2.3-4.rt1", "3:1.2.3-3.rt1", "1.2.2-1"]
    assert p["pkg_changelog.name"][1] == "Other Person <other@example.invalid>"
    texts = dict(rows.changelogs)
    assert p["pkg_changelog.hash"][0] in texts
    assert p["pkg_changelog.hash"][0] == mmhash(texts[p["pkg_changelog.hash"][0]])
    assert rows.files.rows == len(_file_rows(path)) and len(rows.files.payloads) == 15
    files = {r[1]: r for r in _file_rows(path)}
    assert files["/usr/bin/rt-hi"][14] == "symlink" and files["/usr/bin/rt-hi"][2] == "rt-hello"
    assert files["/usr/share/rt-hello/empty"][14] == "directory"
    assert files["/usr/bin/rt-hello"][14] == "file"
    assert rows.depends.rows == len(_depend_rows(path))
    deps = {(r[4], r[1]): r for r in _depend_rows(path)}
    assert deps[("conflict", "rt-hello-old")][2:4] == ("1.0", 2)  # RPMSENSE_LESS
    assert deps[("obsolete", "rt-hello-ancient")][3] & 10 == 10  # LESS|EQUAL
    assert ("provide", "rt-greeting") in deps
    assert rows.spec is None


def test_digests_match_the_file() -> None:
    import hashlib

    path = _rpm("rt-hello-libs-1.2.3-4.rt1.x86_64.rpm")
    rows = read_package(PackageJob(path.name, False, "x", path=str(path)))
    raw = path.read_bytes()
    assert rows.digests.md5 == hashlib.md5(raw, usedforsecurity=False).digest()
    assert rows.digests.sha256 == hashlib.sha256(raw).digest()
    assert rows.digests.blake2b == hashlib.blake2b(raw).digest()
    d = rows.digests
    assert rows.hash_row() == (rows.pkg_hash, d.md5, d.sha1, d.sha256, d.blake2b)


def test_source_package_rows_and_spec() -> None:
    path = _rpm("rt-hello-1.2.3-4.rt1.src.rpm")
    rows = read_package(PackageJob(path.name, True, "srpm", path=str(path)))
    assert rows.source
    assert rows.package["pkg_sourcepackage"] == 1
    assert rows.package["pkg_sourcerpm"] == path.name
    assert rows.package["pkg_srcrpm_hash"] == rows.pkg_hash
    assert rows.spec is not None
    assert rows.spec[5] == "rt-hello.spec"
    assert b"Name:           rt-hello" in rows.spec[7]


def test_latin1_summary_is_kept() -> None:
    path = _rpm("rt-tilde-2.0~rc1-1.noarch.rpm")
    rows = read_package(PackageJob(path.name, False, "x", path=str(path)))
    assert rows.package["pkg_summary"] == "Café crème test package"
    assert rows.package["pkg_version"] == "2.0~rc1"


def test_md5_file_digests_are_kept_for_alt_packages() -> None:
    path = need_fixtures("rpm", "alt", "squid-helpers-6.10-alt1.x86_64.rpm")
    rows = read_package(PackageJob(path.name, False, "x", path=str(path)))
    regular = [r for r in _file_rows(path) if r[14] == "file"]
    assert regular and all(len(r[3]) == 16 for r in regular)
    assert rows.package["pkg_name"] == "squid-helpers"


def test_sha256_file_digests_leave_md5_empty() -> None:
    path = _rpm("rt-hello-1.2.3-4.rt1.x86_64.rpm")
    assert all(r[3] == b"" for r in _file_rows(path))


def test_index_digest_mismatch_names_the_file() -> None:
    from repotrack.errors import InputError
    from repotrack.ingest.rows import Digests

    path = _rpm("rt-hello-1.2.3-4.rt1.x86_64.rpm")
    job = PackageJob(path.name, False, "x", path=str(path), expected=Digests(md5=b"\1" * 16))
    with pytest.raises(InputError, match=f"{path.name}: md5 digest mismatch"):
        read_package(job)


def _meta(**changes: object) -> MetaPackage:
    base = MetaPackage(
        pkgid="ab" * 32,
        checksum_type="sha256",
        name="a",
        arch="noarch",
        epoch=0,
        version="1",
        release="1",
        time_build=1_700_000_000,
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_metadata_pkg_hash_is_marked_and_deterministic() -> None:
    h = metadata_pkg_hash(_meta())
    assert h & METADATA_ID_BIT
    assert h == metadata_pkg_hash(_meta())
    assert (h >> 32) & 0x7FFFFFFF == 700_000_000
    assert metadata_pkg_hash(_meta(pkgid="cd" * 32)) != h
    assert metadata_pkg_hash(_meta(time_build=456)) >> 32 == METADATA_ID_BIT >> 32  # clamped


def test_header_hashes_never_carry_the_metadata_bit() -> None:
    for path in RPMS.glob("*.rpm"):
        assert not read_rpm(path).pkg_hash & METADATA_ID_BIT


def test_metadata_rows_from_fixture() -> None:
    root = need_fixtures("repodata", "dnf5", "repomd-repo1")
    pkg, _, unresolvable = iter_repodata_packages(root)
    rows = metadata_rows(pkg)
    assert rows.digests.sha256 == bytes.fromhex(pkg.pkgid)
    # other.xml lists "First change" (2022) before "Second change" (2023); rows are newest first.
    assert rows.package["pkg_changelog.name"] == ["Jo White", "Joe Black"]
    assert rows.files.rows == 2
    assert metadata_file_columns(pkg, rows.pkg_hash)[1] == ["/etc/pkg.conf", "/etc/pkg.conf.d"]
    kinds = set(metadata_depend_columns(unresolvable, 1)[4])
    assert kinds == {"require", "conflict", "obsolete", "provide"}
