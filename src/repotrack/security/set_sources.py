"""The source packages of a package set as the matcher sees them, stand-ins included.

Fedora, openSUSE and RHEL-family repositories ship their binary packages without the
source packages beside them, and so does a directory of RPMs a maintainer loads; NVD
and ALTRepo match by source name (``squid-helpers`` is judged as ``squid``). So a binary
whose source package the set lacks stands for that source: one stand-in per source RPM
it names, with name, version and release from that file name, the binaries' epoch, and
an id of its own (``stand_in_id``), which no stored package has. Without them a
branch of binaries alone had no pair to match at all, and said so as "0 verdicts".
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "NAMES_A_SOURCE_RPM",
    "NVR_NAME",
    "NVR_RELEASE",
    "NVR_VERSION",
    "SOURCE_NVR",
    "STAND_IN",
    "members",
    "orphaned",
    "set_sources",
    "stand_in_id",
    "stand_ins",
]

#: The source RPM a binary names (``pkg_sourcerpm``), less its ``.src.rpm``: N-V-R.
SOURCE_NVR: Final = "replaceRegexpOne(pkg_sourcerpm, '\\\\.(no)?src\\\\.rpm$', '')"


#: The name, version and release of a stand-in: the parts of its N-V-R (``nvr``).
NVR_NAME: Final = "replaceRegexpOne(nvr, '-[^-]*-[^-]*$', '')"
NVR_VERSION: Final = "extract(nvr, '-([^-]*)-[^-]*$')"
NVR_RELEASE: Final = "extract(nvr, '-([^-]*)$')"

#: A binary that names a source RPM (``N-V-R.src.rpm``; gpg-pubkey and the like do not).
NAMES_A_SOURCE_RPM: Final = "match(pkg_sourcerpm, '^[^/]+-[^-/]+-[^-/]+\\\\.(no)?src\\\\.rpm$')"


def orphaned(packages: str) -> str:
    """The condition that keeps the binaries (of ``packages``, the set's members) that
    may stand for a source the set lacks: their stored source id is none (0) or not in
    the set, and they name a source RPM. The id alone spares the binaries of a branch
    with its sources (ALT: about three per source) reading their ``pkg_sourcerpm``; the
    source's N-V-R then decides (``set_sources``)."""
    return f"(pkg_srcrpm_hash = 0 OR pkg_srcrpm_hash NOT IN {packages}) AND {NAMES_A_SOURCE_RPM}"


def set_sources(root: str) -> str:
    """The source packages of the package set whose root is parameter ``root``, and a
    stand-in per source RPM that binaries of the set name while the set lacks it
    (columns ``pkg_hash, pkg_name, pkg_epoch, pkg_version, pkg_release``). Whether the
    set holds the source is decided by N-V-R, not by a binary's ``pkg_srcrpm_hash``: a
    binary stored before its source was ever loaded keeps 0 there."""
    packages = members(root)
    stand_in = (
        f"{STAND_IN} AS pkg_hash, {NVR_NAME} AS pkg_name, any(epoch) AS pkg_epoch, "
        f"{NVR_VERSION} AS pkg_version, {NVR_RELEASE} AS pkg_release"
    )
    return f"""
    SELECT pkg_hash, any(pkg_name) AS pkg_name, any(pkg_epoch) AS pkg_epoch,
        any(pkg_version) AS pkg_version, any(pkg_release) AS pkg_release
    FROM Packages_buffer
    WHERE pkg_sourcepackage = 1 AND pkg_hash IN {packages}
    GROUP BY pkg_hash
    UNION ALL
    {stand_ins(root, select=stand_in, read="pkg_epoch AS epoch")}
"""  # noqa: S608


def stand_ins(root: str, *, select: str, read: str) -> str:
    """One row per source RPM that binaries of the package set (root parameter ``root``)
    name while the set lacks it: ``select`` over the group of its binaries, each read
    as ``nvr`` (the source RPM's N-V-R) and ``read`` (columns of the binary). The
    stand-in's id, name, version and release are ``STAND_IN``, ``NVR_NAME``,
    ``NVR_VERSION`` and ``NVR_RELEASE``; what else a caller needs of the binaries
    (their epoch for the matcher, their newest changelog entry for errata) it reads and
    aggregates itself."""
    packages = members(root)
    return f"""
    SELECT {select}
    FROM
    (
        SELECT {SOURCE_NVR} AS nvr, {read} FROM Packages_buffer
        WHERE pkg_sourcepackage = 0 AND pkg_hash IN {packages} AND {orphaned(packages)}
    )
    WHERE nvr NOT IN (SELECT concat(pkg_name, '-', pkg_version, '-', pkg_release)
        FROM Packages_buffer WHERE pkg_sourcepackage = 1 AND pkg_hash IN {packages})
    GROUP BY nvr
"""  # noqa: S608


def stand_in_id(nvr: str) -> str:
    """The SQL id of the stand-in for source RPM N-V-R ``nvr`` (an SQL expression)."""
    return f"murmurHash3_64('source rpm', {nvr})"


#: A stand-in's id, of its N-V-R (``nvr``).
STAND_IN: Final = stand_in_id("nvr")


def members(root: str) -> str:
    """The packages (ids) of the package set whose root is parameter ``root``."""
    return f"""(SELECT pkg_hash FROM PackageSet_buffer WHERE pkgset_uuid IN
            (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = {{{root}:UUID}}))"""  # noqa: S608
