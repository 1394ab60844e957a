"""rpmdb files written by rpm itself (rpm 4.16.1.3: Berkeley DB and ndb backends).

The files in ``tests/data/rpmdb-reference`` and the ``rpm -qa`` listing beside each
were made by a real rpm (see its PROVENANCE.md). Each is read with repotrack's reader
and compared with that listing, record by record; the package files the headers came
from give the independent ``pkg_hash``. Damaged copies must give an InputError.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.rpm import Tag, read_rpm
from repotrack.rpm.header import HEADER_MAGIC, Header
from repotrack.sources.images import RpmdbFile, read_installed
from repotrack.sources.images.rpmdb_bdb import iter_bdb_blobs
from repotrack.sources.images.rpmdb_ndb import iter_ndb_blobs
from tests.conftest import DATA

REFERENCE = DATA / "rpmdb-reference"
#: reference directory -> (file name, format)
DATABASES = {
    "bdb-empty": ("Packages", "bdb"),
    "bdb-4096": ("Packages", "bdb"),
    "bdb-512": ("Packages", "bdb"),
    "bdb-16384": ("Packages", "bdb"),
    "ndb": ("Packages.db", "ndb"),
}
_BLOBS: dict[str, Callable[..., Iterator[tuple[int, bytes]]]] = {
    "bdb": iter_bdb_blobs,
    "ndb": iter_ndb_blobs,
}
_SOURCES = sorted((DATA / "rpms").glob("*.rpm")) + sorted((DATA / "rpm-corpus").glob("*.rpm"))


def _expected(name: str) -> dict[int, tuple[str, int, str, str, str, str, int]]:
    """rpm's own listing: DBINSTANCE -> (name, epoch, version, release, arch, sha1, buildtime)."""
    rows: dict[int, tuple[str, int, str, str, str, str, int]] = {}
    for line in (REFERENCE / name / "expected.txt").read_text().splitlines():
        inst, pname, epoch, version, release, arch, sha1, buildtime = line.split("|")
        rows[int(inst)] = (pname, int(epoch), version, release, arch, sha1, int(buildtime))
    return rows


def _db(name: str) -> RpmdbFile:
    file_name, kind = DATABASES[name]
    return RpmdbFile(REFERENCE / name / file_name, kind, f"ref:{name}")


@pytest.mark.parametrize("name", sorted(DATABASES))
def test_reference_rpmdb_records_match_rpm(name: str) -> None:
    """Every record rpm lists, under the same instance number, and nothing else."""
    db = _db(name)
    got: dict[int, tuple[str, int, str, str, str, str, int]] = {}
    for key, blob in _BLOBS[db.kind](db.path, source=db.source):
        header = Header.parse(HEADER_MAGIC + bytes(4) + blob, source=db.source)
        assert key not in got
        got[key] = (
            header.get_str(Tag.NAME) or "",
            header.get_int(Tag.EPOCH) or 0,
            header.get_str(Tag.VERSION) or "",
            header.get_str(Tag.RELEASE) or "",
            header.get_str(Tag.ARCH) or "",
            header.get_str(Tag.SHA1HEADER) or "(none)",
            header.get_int(Tag.BUILDTIME) or 0,
        )
    assert got == _expected(name)


@pytest.mark.parametrize("name", sorted(DATABASES))
def test_reference_rpmdb_packages_have_the_files_pkg_hash(name: str) -> None:
    """read_installed gives each package rpm lists, with the pkg_hash of its file."""
    expected = _expected(name)
    packages = read_installed(_db(name))
    # in instance-number order, as rpm numbers them (not the file's bucket or blob order)
    assert [p.name for p in packages] == [row[0] for _inst, row in sorted(expected.items())]
    assert sorted(
        (p.name, p.epoch, p.version, p.release, p.arch, p.buildtime) for p in packages
    ) == sorted((n, e, v, r, a, b) for n, e, v, r, a, _sha1, b in expected.values())
    by_name = {}
    for path in _SOURCES:
        rpm = read_rpm(path)
        if not rpm.is_source:
            by_name[rpm.header.get_str(Tag.NAME)] = rpm.pkg_hash
    assert {p.name: p.pkg_hash for p in packages} == {p.name: by_name[p.name] for p in packages}


def _outcome(db: RpmdbFile) -> str:
    try:
        return f"{len(read_installed(db))} packages"
    except InputError:
        return "InputError"


@pytest.mark.parametrize("name", sorted(DATABASES))
def test_damaged_reference_rpmdb_gives_input_error(name: str, tmp_path: Path) -> None:
    """Flipped bytes and truncations: a result or an InputError, never another exception."""
    original = _db(name)
    data = original.path.read_bytes()
    rng = random.Random(f"rpmdb-damage-{name}")
    target = tmp_path / original.path.name
    db = RpmdbFile(target, original.kind, f"damaged:{name}")
    outcomes: dict[str, int] = {}
    cases: list[bytes] = []
    for _ in range(150):
        damaged = bytearray(data)
        for _ in range(rng.choice((1, 1, 2, 4))):
            pos = rng.randrange(len(damaged))
            damaged[pos] ^= rng.choice((0xFF, 0x01, 0x80, rng.randrange(1, 256)))
        cases.append(bytes(damaged))
    for _ in range(40):
        cases.append(data[: rng.randrange(len(data))])
    for page in range(0, len(data), 512):
        cases.append(data[:page] + bytes(min(512, len(data) - page)) + data[page + 512 :])
    for case in cases:
        target.write_bytes(case)
        outcome = _outcome(db)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert sum(outcomes.values()) == len(cases)
    if name != "bdb-empty":
        assert outcomes.get("InputError", 0) > 0


def test_sqlite_rpmdb_package_without_sha1header(tmp_path: Path) -> None:
    """rpm (here Debian's 4.18, SQLite) installs a package whose signature has no
    SHA1HEADER (nFPM's, like rpm 6's v6 packages); its pkg_hash is the file's, from the
    SHA-1 of the header's immutable region, and the other packages are still read."""
    from tests.unit.sources.images.imageutil import BINARY_RPMS, make_rootfs

    corpus = DATA / "rpm-corpus/test-1.0.0.x86_64.rpm"
    assert read_rpm(corpus).merged.get(Tag.SHA1HEADER) is None
    root = make_rootfs(tmp_path / "root", rpms=[*BINARY_RPMS, corpus])
    db = RpmdbFile(root / "var/lib/rpm/rpmdb.sqlite", "sqlite", "test:rpmdb.sqlite")
    want = {read_rpm(p).pkg_hash for p in [*BINARY_RPMS, corpus]}
    assert {p.pkg_hash for p in read_installed(db)} == want


def test_bdb_page_on_two_chains_is_refused(tmp_path: Path) -> None:
    """Found by damaging the reference files: bucket 1's page pointing on to bucket 0's
    page gave bucket 0's packages twice; a page reached twice is now an InputError."""
    for name in ("bdb-512", "bdb-4096"):
        data = bytearray((REFERENCE / name / "Packages").read_bytes())
        pagesize = struct.unpack_from("<I", data, 20)[0]
        spares = struct.unpack_from("<32I", data, 96)
        first, second = 0 + spares[0], 1 + spares[1]
        struct.pack_into("<I", data, second * pagesize + 16, first)
        target = tmp_path / name
        target.write_bytes(bytes(data))
        with pytest.raises(InputError, match="reached twice"):
            read_installed(RpmdbFile(target, "bdb", name))


def test_ndb_package_index_in_two_slots_is_refused(tmp_path: Path) -> None:
    """A second slot naming the same package and blob gave the package twice."""
    data = bytearray((REFERENCE / "ndb" / "Packages.db").read_bytes())
    used = next(pos for pos in range(32, 4096, 16) if struct.unpack_from("<I", data, pos + 8)[0])
    free = next(
        pos for pos in range(32, 4096, 16) if not struct.unpack_from("<I", data, pos + 8)[0]
    )
    data[free : free + 16] = data[used : used + 16]
    target = tmp_path / "Packages.db"
    target.write_bytes(bytes(data))
    with pytest.raises(InputError, match="twice"):
        read_installed(RpmdbFile(target, "ndb", "ndb"))


def test_big_endian_copy_of_a_reference_bdb(tmp_path: Path) -> None:
    """A big-endian ``Packages`` (as rpm writes on s390x or ppc64): the rpm-written
    records dumped with ``db_dump``, their instance keys turned big-endian as a
    big-endian rpm stores them, and loaded with ``db_load -c db_lorder=4321``."""
    import subprocess

    from tests.conftest import need_tool

    db_dump, db_load = need_tool("db_dump"), need_tool("db_load")
    for name in ("bdb-512", "bdb-16384"):
        source = REFERENCE / name / "Packages"
        dump = subprocess.run(
            [db_dump, str(source)], check=True, capture_output=True, text=True
        ).stdout.splitlines()
        out, in_data, is_key = [], False, True
        for line in dump:
            if line in ("HEADER=END", "DATA=END"):
                in_data = line == "HEADER=END"
            elif in_data and line.startswith(" "):
                if is_key:
                    line = " " + bytes.fromhex(line[1:])[::-1].hex()
                is_key = not is_key
            out.append(line)
        target = tmp_path / name
        subprocess.run(
            [db_load, "-c", "db_lorder=4321", str(target)],
            input="\n".join(out) + "\n",
            text=True,
            check=True,
        )
        assert target.read_bytes()[12:16] == bytes.fromhex("00061561")  # big-endian magic
        big = read_installed(RpmdbFile(target, "bdb", f"be:{name}"))
        assert big == read_installed(_db(name))
