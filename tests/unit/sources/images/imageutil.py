"""Real images for the image tests, built with Debian tools from the project's RPMs.

A root file system directory gets an rpmdb written by rpm itself (``rpm --initdb``
and ``rpm -i --justdb --nodeps``: SQLite, rpm 4.16+'s default), and a Berkeley DB
``Packages`` file is written through the Berkeley DB library (``db_load``) from the
same header blobs. The directory then becomes a tarball (``tar``), an ext4 or ext2
file system (``mkfs.ext4 -d``), a GPT- or MBR-partitioned raw disk (``sfdisk``),
a qcow2 image (``qemu-img convert``), an xz-compressed raw image, a SquashFS image
(``mksquashfs``) and an ALT-style ISO (``xorriso``).
"""

from __future__ import annotations

import sqlite3
import struct
import subprocess
import tarfile
from pathlib import Path

from repotrack.rpm import read_rpm
from tests.conftest import DATA, need_tool

RPMS = DATA / "rpms"
BINARY_RPMS = sorted(p for p in RPMS.glob("*.rpm") if not p.name.endswith(".src.rpm"))
OS_RELEASE = 'NAME="ALT Workstation"\nID=altlinux\nVERSION_ID=10.1\n'
MiB = 1 << 20


def binary_hashes() -> set[int]:
    """The independent answer: pkg_hash of each binary RPM file, read from the file."""
    return {read_rpm(p).pkg_hash for p in BINARY_RPMS}


def make_rootfs(
    root: Path, *, dbpath: str = "/var/lib/rpm", rpms: list[Path] | None = None
) -> Path:
    """A root directory with an SQLite rpmdb at ``dbpath`` and an os-release symlink."""
    rpm = need_tool("rpm")
    root.mkdir(parents=True, exist_ok=True)
    base = ["--root", str(root), "--dbpath", dbpath]
    subprocess.run([rpm, *base, "--initdb"], check=True, capture_output=True)
    files = [str(p) for p in (rpms if rpms is not None else BINARY_RPMS)]
    subprocess.run(
        [rpm, *base, "-i", "--justdb", "--nodeps", "--noscripts", *files],
        check=True,
        capture_output=True,
    )
    db = root / dbpath.lstrip("/")
    for leftover in (".rpm.lock", "rpmdb.sqlite-shm", "rpmdb.sqlite-wal"):
        (db / leftover).unlink(missing_ok=True)
    (root / "usr/lib").mkdir(parents=True, exist_ok=True)
    (root / "usr/lib/os-release").write_text(OS_RELEASE)
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/os-release").symlink_to("../usr/lib/os-release")
    return root


def wal_snapshot(rootfs: Path, tmp_path: Path) -> Path:
    """A copy of ``rootfs`` taken while a deletion of its last package sits in the WAL."""
    import shutil

    root = tmp_path / "wal-root"
    shutil.copytree(rootfs, root, symlinks=True)
    db = root / "var/lib/rpm/rpmdb.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    with conn:
        conn.execute("DELETE FROM Packages WHERE hnum = (SELECT max(hnum) FROM Packages)")
    assert db.with_name("rpmdb.sqlite-wal").stat().st_size > 0
    snapshot = tmp_path / "wal-snapshot"
    shutil.copytree(root, snapshot, symlinks=True)
    conn.close()
    (snapshot / "var/lib/rpm/rpmdb.sqlite-shm").unlink(missing_ok=True)
    return snapshot


def sqlite_blobs(db: Path) -> list[tuple[int, bytes]]:
    with sqlite3.connect(db) as conn:
        return [(int(h), bytes(b)) for h, b in conn.execute("SELECT hnum, blob FROM Packages")]


def write_bdb(blobs: list[tuple[int, bytes]], target: Path, *, pagesize: int = 4096) -> Path:
    """A BDB hash ``Packages`` as rpm writes it (key: u32 instance; 0 holds the next one)."""
    db_load = need_tool("db_load")
    lines = ["VERSION=3", "format=bytevalue", "type=hash", f"db_pagesize={pagesize}", "HEADER=END"]
    lines += [" " + struct.pack("<I", 0).hex(), " " + struct.pack("<I", len(blobs) + 1).hex()]
    for key, blob in blobs:
        lines += [" " + struct.pack("<I", key).hex(), " " + blob.hex()]
    lines.append("DATA=END")
    subprocess.run([db_load, str(target)], input="\n".join(lines) + "\n", text=True, check=True)
    return target


def bdb_rootfs(root: Path) -> Path:
    """A root directory whose rpmdb is a BDB ``Packages`` (no SQLite file)."""
    make_rootfs(root)
    db = root / "var/lib/rpm"
    write_bdb(sqlite_blobs(db / "rpmdb.sqlite"), db / "Packages")
    (db / "rpmdb.sqlite").unlink()
    return root


def make_tar(root: Path, target: Path, mode: str = "w") -> Path:
    with tarfile.open(target, mode) as tar:
        tar.add(root, arcname=".")
    return target


def make_ext(root: Path, target: Path, *, size_mib: int = 16, fstype: str = "ext4") -> Path:
    mkfs = need_tool(f"mkfs.{fstype}")
    subprocess.run(
        [mkfs, "-q", "-F", "-d", str(root), str(target), f"{size_mib}M"],
        check=True,
        capture_output=True,
    )
    return target


def make_disk(fs: Path, target: Path, *, label: str = "gpt") -> Path:
    """A raw disk: a small empty first partition, then ``fs`` in the second."""
    sfdisk = need_tool("sfdisk")
    fs_mib = (fs.stat().st_size + MiB - 1) // MiB
    with target.open("wb") as f:
        f.truncate((1 + 4 + fs_mib + 1) * MiB)
    script = f"label: {'gpt' if label == 'gpt' else 'dos'}\n,4M,L\n,{fs_mib}M,L\n"
    subprocess.run([sfdisk, "-q", str(target)], input=script, text=True, check=True)
    with target.open("r+b") as out, fs.open("rb") as src:
        out.seek(5 * MiB)
        while chunk := src.read(MiB):
            out.write(chunk)
    return target


def make_qcow2(raw: Path, target: Path) -> Path:
    qemu = need_tool("qemu-img")
    subprocess.run(
        [qemu, "convert", "-c", "-f", "raw", "-O", "qcow2", str(raw), str(target)],
        check=True,
        capture_output=True,
    )
    return target


def make_squashfs(
    root: Path, target: Path, *, comp: str = "xz", options: tuple[str, ...] = ()
) -> Path:
    mksquashfs = need_tool("mksquashfs")
    quiet = ("-noappend", "-quiet", "-no-progress")
    subprocess.run(
        [mksquashfs, str(root), str(target), "-comp", comp, *options, *quiet],
        check=True,
        capture_output=True,
    )
    return target


def extract_payload(rpms: list[Path], root: Path) -> Path:
    """The regular files of ``rpms`` written under ``root``, as installing them would."""
    import stat as stat_mod

    from repotrack.rpm import iter_payload

    for path in rpms:
        for entry, data in iter_payload(read_rpm(path), lambda e: True, max_bytes=64 * MiB):
            target = root / entry.name.lstrip("./")
            if stat_mod.S_ISDIR(entry.mode):
                target.mkdir(parents=True, exist_ok=True)
            elif entry.is_regular:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
    return root


def make_iso(tree: Path, target: Path, *, volume: str = "ALT Workstation 10.1 x86_64") -> Path:
    xorriso = need_tool("xorriso")
    subprocess.run(
        [xorriso, "-as", "mkisofs", "-R", "-J", "-V", volume, "-o", str(target), str(tree)],
        check=True,
        capture_output=True,
    )
    return target


def alt_iso_tree(base: Path, rootfs: Path, *, live: str = "xz", altinst: str = "xz") -> Path:
    """An ALT-style ISO tree: .disk/*, ALTLinux/RPMS.main, a ``live`` SquashFS with an
    rpmdb, and an ``altinst`` SquashFS without one (files of rt-hello-libs and rt-tilde,
    plus three files no package owns)."""
    tree = base / "iso"
    (tree / ".disk").mkdir(parents=True)
    for name, text in {
        "arch": "x86_64",
        "date": "20240502",
        "info": "ALT 10.1",
        "commit": "c0ffee",
    }.items():
        (tree / ".disk" / name).write_text(text + "\n")
    rpms_dir = tree / "ALTLinux/RPMS.main"
    rpms_dir.mkdir(parents=True)
    for rpm in BINARY_RPMS:
        if rpm.name.startswith(("rt-hello-1", "rt-bz")):
            (rpms_dir / rpm.name).write_bytes(rpm.read_bytes())
    make_squashfs(rootfs, tree / "live", comp=live)
    altinst_root = base / "altinst"
    wanted = [p for p in BINARY_RPMS if p.name.startswith(("rt-hello-libs", "rt-tilde"))]
    extract_payload(wanted, altinst_root)
    (altinst_root / "etc").mkdir(parents=True, exist_ok=True)
    (altinst_root / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (altinst_root / "etc/group").write_text("root:x:0:\n")
    (altinst_root / "etc/installer.conf").write_text("orphan\n")
    make_squashfs(altinst_root, tree / "altinst", comp=altinst)
    return tree
