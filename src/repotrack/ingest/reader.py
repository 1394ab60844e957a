"""Read one package into rows: the work a loader's worker process does.

Everything here takes and returns plain picklable data, so it can run in a spawned
worker process: the header parse is pure Python, and several processes use several
cores where threads would queue on the GIL. Spec extraction for source packages
happens here too, so its memory goes away with the task, not with the loader (the
original spawned a process per SRPM for the same reason).

Digests of the file (MD5, SHA-256, BLAKE2b) are computed in one read, which also
checks the digests the package records of itself (``rpm.integrity``, what ``rpm -K``
checks), and compared with what the repository index recorded; a mismatch is an
error naming the file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from repotrack.errors import InputError
from repotrack.ingest.metadata import metadata_rows
from repotrack.ingest.rows import (
    Digests,
    PackageRows,
    depend_block,
    header_changelog,
    header_depend_columns,
    header_file_block,
    header_package,
    set_changelog,
    spec_row,
)
from repotrack.rpm import RpmFile, extract_spec, quick_pkg_hash, read_rpm
from repotrack.rpm.integrity import read_checked
from repotrack.sources import MetaPackage

NO_DIGESTS = Digests()

__all__ = [
    "Identity",
    "KnownCheck",
    "PackageJob",
    "check_known_package",
    "check_known_packages",
    "identify_package",
    "read_package",
    "read_packages",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PackageJob:
    """One package to load: a file to read, or createrepo metadata when there is no file.

    ``expected`` holds the digests the repository index recorded (``b""`` when it
    recorded none); ``source`` is what the repository layout says the package is;
    ``node`` names the package-set node it belongs to.
    """

    filename: str
    source: bool
    node: str
    path: str | None = None
    expected: Digests = NO_DIGESTS
    meta: MetaPackage | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """What the header alone tells: enough to see whether the store already has it."""

    pkg_hash: int
    sha1: bytes


def identify_package(path: str) -> Identity:
    """Read only what the package id needs (signature, index, BUILDTIME), not the payload."""
    quick = quick_pkg_hash(path)
    if quick is not None:
        return Identity(pkg_hash=quick[0], sha1=quick[1])
    rpm = read_rpm(path)
    return Identity(pkg_hash=rpm.pkg_hash, sha1=rpm.sha1header)


def read_packages(jobs: list[PackageJob]) -> list[PackageRows | InputError]:
    """``read_package`` for several jobs: one round trip to a worker process for all.

    A bad package's place holds its error; the jobs after it are read all the same
    (a load that leaves bad packages out wants them, one that stops stores the
    packages before the bad one and drops the rest).
    """
    done: list[PackageRows | InputError] = []
    for job in jobs:
        try:
            done.append(read_package(job))
        except InputError as exc:
            done.append(exc)
    return done


@dataclass(frozen=True, slots=True)
class KnownCheck:
    """A package file the store already holds, to read again (``--verify-known``)."""

    path: str
    pkg_hash: int
    stored_sha256: bytes


def check_known_packages(checks: list[KnownCheck]) -> list[InputError | None]:
    """``check_known_package`` for several files: ``None`` where the file is sound."""
    done: list[InputError | None] = []
    for check in checks:
        try:
            check_known_package(check)
            done.append(None)
        except InputError as exc:
            done.append(exc)
    return done


def check_known_package(check: KnownCheck) -> None:
    """Read a known package in full: its own digests must hold, and its file must be
    the one stored under its id.

    Dedupe trusts a package whose header matches a stored one without reading the
    rest; a payload replaced under the same header (a rebuilt file, a bad mirror
    sync) would go unnoticed. This re-reads it and compares the whole file's SHA-256
    with the stored ``PackageHash`` row.
    """
    rpm, digests = read_checked(check.path)
    if rpm.pkg_hash != check.pkg_hash:
        raise InputError("its header changed while it was read", path=check.path)
    if check.stored_sha256 and digests.sha256 != check.stored_sha256:
        raise InputError(
            "differs from the stored package with the same header (pkg_hash "
            f"{check.pkg_hash}): the file's SHA-256 is not the one stored",
            path=check.path,
        )


def read_package(job: PackageJob) -> PackageRows:
    """All rows of one package; raises InputError naming the file on bad input."""
    if job.path is None:
        if job.meta is None:
            raise InputError("neither a file nor metadata", path=job.filename)
        return metadata_rows(job.meta)
    rpm, computed = read_checked(job.path)
    digests = Digests(
        md5=computed.md5, sha256=computed.sha256, blake2b=computed.blake2b, sha1=rpm.sha1header
    )
    _check_digests(job, digests)
    header = rpm.merged
    source = rpm.is_source
    pkg_hash = rpm.pkg_hash
    package = header_package(
        header,
        pkg_hash=pkg_hash,
        sha1=digests.sha1,
        filename=job.filename,
        file_size=rpm.file_size,
        source=source,
    )
    nested, changelogs = header_changelog(header)
    set_changelog(package, nested)
    rows = PackageRows(
        pkg_hash=pkg_hash,
        name=package["pkg_name"],
        arch=package["pkg_arch"],
        source=source,
        filename=job.filename,
        sourcerpm=package["pkg_sourcerpm"],
        digests=digests,
        package=package,
        files=header_file_block(header, pkg_hash),
        depends=depend_block(header_depend_columns(header, pkg_hash)),
        changelogs=changelogs,
    )
    if source:
        rows.spec = _spec(rpm, package)
    return rows


def _spec(rpm: RpmFile, package: dict[str, object]) -> tuple[object, ...] | None:
    spec = extract_spec(rpm)
    if spec is None:
        # The original aborted the whole load here; one odd SRPM should not.
        log.warning("no spec file in source package", extra={"path": rpm.path})
        return None
    return spec_row(package, name=spec.name, mtime=spec.mtime, content=spec.content)


def _check_digests(job: PackageJob, got: Digests) -> None:
    for name in ("md5", "sha256", "blake2b"):
        want = getattr(job.expected, name)
        have = getattr(got, name)
        if want and want != have:
            raise InputError(
                f"{name} digest mismatch with the repository index: index {want.hex()}, "
                f"file {have.hex()}",
                path=job.path,
            )
