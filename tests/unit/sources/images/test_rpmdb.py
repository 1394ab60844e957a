"""rpmdb readers: SQLite (written by rpm), Berkeley DB hash (written by db_load), ndb."""

from __future__ import annotations

import shutil
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.sources.images import RpmdbFile, read_installed
from tests.unit.sources.images.imageutil import binary_hashes, sqlite_blobs, write_bdb


def _sqlite(rootfs: Path) -> RpmdbFile:
    return RpmdbFile(rootfs / "var/lib/rpm/rpmdb.sqlite", "sqlite", "test:rpmdb.sqlite")


def test_sqlite_rpmdb_gives_the_package_files_pkg_hash(rootfs: Path) -> None:
    packages = read_installed(_sqlite(rootfs))
    assert {p.pkg_hash for p in packages} == binary_hashes()
    hello = next(p for p in packages if p.name == "rt-hello")
    assert (hello.epoch, hello.version, hello.release, hello.arch) == (
        3,
        "1.2.3",
        "4.rt1",
        "x86_64",
    )
    assert not hello.is_srpm and hello.buildtime > 1_000_000_000


def test_bdb_rpmdb_matches_sqlite(bdb_root: Path) -> None:
    db = RpmdbFile(bdb_root / "var/lib/rpm/Packages", "bdb", "test:Packages")
    assert {p.pkg_hash for p in read_installed(db)} == binary_hashes()


def test_bdb_with_small_pages_many_buckets_and_overflow(rootfs: Path, tmp_path: Path) -> None:
    # 512-byte pages: every header spans an overflow chain; 200 records split buckets.
    blobs = sqlite_blobs(rootfs / "var/lib/rpm/rpmdb.sqlite")
    many = [(i + 1, blobs[i % len(blobs)][1]) for i in range(200)]
    db = write_bdb(many, tmp_path / "Packages", pagesize=512)
    packages = read_installed(RpmdbFile(db, "bdb", "Packages"))
    assert len(packages) == 200
    assert {p.pkg_hash for p in packages} == binary_hashes()


def test_bdb_truncated_and_wrong_magic(bdb_root: Path, tmp_path: Path) -> None:
    source = bdb_root / "var/lib/rpm/Packages"
    cut = tmp_path / "Packages"
    cut.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    with pytest.raises(InputError, match="truncated Berkeley DB"):
        read_installed(RpmdbFile(cut, "bdb", "cut"))
    bad = tmp_path / "bad"
    bad.write_bytes(b"\0" * 4096)
    with pytest.raises(InputError, match="bad magic"):
        read_installed(RpmdbFile(bad, "bdb", "bad"))


def test_sqlite_wrong_magic(tmp_path: Path) -> None:
    bad = tmp_path / "rpmdb.sqlite"
    bad.write_bytes(b"not sqlite at all" * 10)
    with pytest.raises(InputError, match=r"bad:.*bad magic"):
        read_installed(RpmdbFile(bad, "sqlite", "bad"))


def _ndb(blobs: list[tuple[int, bytes]]) -> bytes:
    """An ndb ``Packages.db`` laid out as librpm's rpmpkg.c writes it (one slot page)."""
    page = bytearray(4096)
    page[0:20] = b"RpmP" + struct.pack("<IIII", 0, 1, 1, len(blobs) + 1)
    data = bytearray()
    block = 4096 // 16
    for slot, (index, blob) in enumerate(blobs):
        count = (16 + len(blob) + 12 + 15) // 16
        raw = bytearray(b"BlbS" + struct.pack("<III", index, 0, len(blob)) + blob)
        raw += bytes(count * 16 - 12 - len(raw))
        raw += struct.pack("<II", zlib.adler32(bytes(raw)), len(blob)) + b"BlbE"
        struct.pack_into("<4sIII", page, 32 + 16 * slot, b"Slot", index, block, count)
        block += count
        data += raw
    for pos in range(32 + 16 * len(blobs), 4096, 16):
        page[pos : pos + 4] = b"Slot"
    return bytes(page + data)


def test_ndb_reader(rootfs: Path, tmp_path: Path) -> None:
    db = tmp_path / "Packages.db"
    db.write_bytes(_ndb(sqlite_blobs(rootfs / "var/lib/rpm/rpmdb.sqlite")))
    assert {p.pkg_hash for p in read_installed(RpmdbFile(db, "ndb", "ndb"))} == binary_hashes()
    damaged = bytearray(db.read_bytes())
    damaged[4096 + 40] ^= 0xFF  # inside the first blob
    db.write_bytes(bytes(damaged))
    with pytest.raises(InputError, match="checksum mismatch"):
        read_installed(RpmdbFile(db, "ndb", "ndb"))


def test_damaged_header_blob_names_the_package(rootfs: Path, tmp_path: Path) -> None:
    db = tmp_path / "rpmdb.sqlite"
    shutil.copy(rootfs / "var/lib/rpm/rpmdb.sqlite", db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE Packages SET blob = substr(blob, 1, 40) WHERE hnum = 1")
    conn.close()
    with pytest.raises(InputError, match=r"package 1"):
        read_installed(RpmdbFile(db, "sqlite", "img:/var/lib/rpm/rpmdb.sqlite"))


def test_real_distribution_packages(tmp_path: Path) -> None:
    """Signed packages of ALT, Fedora, openSUSE and CentOS 3/5/7 (rpm 4.2 to 4.18 era):
    the rpmdb headers rpm writes for them give the same pkg_hash as the files."""
    from repotrack.rpm import read_rpm
    from tests.conftest import need_fixtures, need_tool

    fixtures = need_fixtures("rpm")
    files = sorted(
        p for d in ("alt", "fedora", "opensuse", "centos") for p in (fixtures / d).glob("*.rpm")
    )
    files.append(fixtures / "rpm-testsuite/hello-2.0-1.x86_64-signed.rpm")
    root = tmp_path / "root"
    base = [need_tool("rpm"), "--root", str(root), "--dbpath", "/var/lib/rpm"]
    import subprocess

    subprocess.run([*base, "--initdb"], check=True, capture_output=True)
    subprocess.run(
        [*base, "-i", "--justdb", "--nodeps", "--noscripts", "--nosignature", "--force"]
        + [str(f) for f in files],
        check=True,
        capture_output=True,
    )
    want = {read_rpm(f).pkg_hash for f in files}
    db = root / "var/lib/rpm/rpmdb.sqlite"
    assert {p.pkg_hash for p in read_installed(RpmdbFile(db, "sqlite", "real"))} == want
    bdb = write_bdb(sqlite_blobs(db), tmp_path / "Packages")
    assert {p.pkg_hash for p in read_installed(RpmdbFile(bdb, "bdb", "real"))} == want


def test_header_with_a_non_hex_sha1header(rootfs: Path) -> None:
    """Found by the damage test: SHA1HEADER must be 40 hex digits, else an InputError."""
    from repotrack.rpm import Tag
    from repotrack.rpm.header import HEADER_MAGIC, Header
    from repotrack.sources.images import parse_installed

    _hnum, blob = sqlite_blobs(rootfs / "var/lib/rpm/rpmdb.sqlite")[0]
    sha1 = Header.parse(HEADER_MAGIC + bytes(4) + blob, source="x").get_str(Tag.SHA1HEADER)
    assert sha1 is not None and blob.count(sha1.encode()) == 1
    damaged = blob.replace(sha1.encode(), b"z" + sha1.encode()[1:])
    with pytest.raises(InputError, match=r"img:rpmdb: .*SHA1HEADER"):
        parse_installed(damaged, source="img:rpmdb")
