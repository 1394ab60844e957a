"""What an ALT ISO image holds, read without mounting: metadata, RPMs, SquashFS images.

- ``.disk/*``: small text files the ALT image builder writes (``arch``, ``date``,
  ``info``, ``commit``, ...), kept as kv under their file names;
- the primary volume descriptor, as ``isoinfo -d`` prints it (kv ``isoinfo``);
- ``ALTLinux/RPMS.*/*.rpm``: the packages shipped on the medium, read header only;
- the SquashFS images ``live``, ``rescue`` and ``altinst`` at the root, each opened
  in place (a window over its extents; nothing is copied unless it is an rpmdb).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass

from repotrack.rpm.package import read_rpm_stream
from repotrack.sources.images.installed import InstalledPackage, package_from_header
from repotrack.sources.images.iso9660 import IsoFileSystem
from repotrack.sources.images.squashfs import SquashFs

__all__ = ["SQUASHFS_NAMES", "IsoSquashFs", "disk_info", "iso_rpms", "iso_squashfs", "isoinfo_text"]

#: The SquashFS images an ALT ISO may carry at its root (altrepo §4.2).
SQUASHFS_NAMES = ("live", "rescue", "altinst")
_DISK_FILE_MAX = 64 * 1024
_RPMS_ROOT = "ALTLinux"


def disk_info(iso: IsoFileSystem) -> dict[str, str]:
    """``.disk/<name>`` -> its text (trailing newlines dropped), for every small file there."""
    info: dict[str, str] = {}
    for entry in iso.list_dir(".disk"):
        if entry.kind != "file" or entry.size > _DISK_FILE_MAX:
            continue
        buffer = io.BytesIO()
        iso.copy_out(entry.path, buffer)
        text = buffer.getvalue().decode("utf-8", "replace")
        info[entry.path.rpartition("/")[2]] = text.rstrip("\n")  # as the original
    return info


def isoinfo_text(iso: IsoFileSystem) -> str:
    return "\n".join(f"{key}: {value}" for key, value in iso.volume_info().items())


def iso_rpms(iso: IsoFileSystem) -> list[InstalledPackage]:
    """The packages in ``ALTLinux/RPMS.*``, by their headers (payloads are not read)."""
    packages: list[InstalledPackage] = []
    for component in iso.list_dir(_RPMS_ROOT):
        if component.kind != "directory" or not component.path.rpartition("/")[2].startswith(
            "RPMS."
        ):
            continue
        for entry in iso.list_dir(component.path):
            if entry.kind != "file" or not entry.path.endswith(".rpm"):
                continue
            window = iso.open_file(entry.path)
            rpm = read_rpm_stream(
                io.BufferedReader(window), source=f"{iso.name}:/{entry.path}", file_size=window.size
            )
            packages.append(package_from_header(rpm.merged, pkg_hash=rpm.pkg_hash))
    return packages


@dataclass(slots=True)
class IsoSquashFs:
    """One SquashFS image inside the ISO: its reader and the facts its node's kv records."""

    name: str
    fs: SquashFs
    size: int
    sha1: bytes
    mtime: int


def iso_squashfs(iso: IsoFileSystem) -> Iterator[IsoSquashFs]:
    """The ISO's SquashFS images, each with the SHA-1 of its bytes (one read)."""
    for name in SQUASHFS_NAMES:
        entry = iso.lookup(name)
        if entry is None or entry.kind != "file":
            continue
        window = iso.open_file(name)
        sha1 = hashlib.sha1(usedforsecurity=False)
        while chunk := window.read(1 << 20):
            sha1.update(chunk)
        window.seek(0)
        fs = SquashFs(io.BufferedReader(window, 1 << 16), name=f"{iso.name}:/{name}")
        yield IsoSquashFs(name=name, fs=fs, size=window.size, sha1=sha1.digest(), mtime=fs.mtime)
