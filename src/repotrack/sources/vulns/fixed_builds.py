"""Affected ranges from an RPM advisory's list of fixed builds.

An RPM distribution's advisory (AlmaLinux's errata JSON, any repository's
``updateinfo.xml``) does not state ranges: it lists the builds that fix it, each with
its name, epoch, version, release and source RPM. Every name it lists, binary and
source, is affected below its fixed ``epoch:version-release`` in the advisory's stream.
A module advisory can list a name at several module builds (one per context); the
lowest of them is the fix, so that a build of the older context is not taken for one
below the newer fix (module releases do not compare across streams).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Final

from repotrack.rpm import evr_key
from repotrack.sources.vulns.records import AffectedRange

__all__ = ["FixedBuild", "fixed_ranges", "source_build"]

#: A fixed build: name, epoch (decimal text), version, release.
FixedBuild = tuple[str, str, str, str]

_SRPM: Final = re.compile(r"^(?P<name>.+)-(?P<version>[^-]+)-(?P<release>[^-]+)\.src\.rpm$")


def source_build(srpm: str, epoch: str) -> FixedBuild | None:
    """The source package a binary's ``src`` file name (``lz4-1.8.3-3.el8_4.src.rpm``)
    names, with the binary's epoch; None when there is no such name. Fedora writes the
    source RPM's URL there: its last path segment is the file name."""
    found = _SRPM.match(srpm.rpartition("/")[2])
    if found is None:
        return None
    return found["name"], epoch, found["version"], found["release"]


def fixed_ranges(stream: str, builds: Iterable[FixedBuild]) -> Iterator[AffectedRange]:
    """Per name, affected below its lowest fixed build, on the criteria
    ``osv:<stream>/<name>``, the epoch always written. A non-numeric epoch is a
    ``ValueError`` naming the package."""
    fixed: dict[str, tuple[str, str, str]] = {}
    for name, epoch, version, release in builds:
        if not epoch.isdigit():
            raise ValueError(f"epoch {epoch!r} of {name!r} is not a number")
        build = (epoch, version, release)
        seen = fixed.get(name)
        # The same build again (another architecture, another binary of one source) is
        # the common case: only two different builds of a name are compared.
        if seen is None or (seen != build and _key(build) < _key(seen)):
            fixed[name] = build
    for name, (epoch, version, release) in fixed.items():
        yield AffectedRange.checked(
            f"osv:{stream}/{name}", end=f"{int(epoch)}:{version}-{release}", end_excluded=True
        )


def _key(build: tuple[str, str, str]) -> bytes:
    epoch, version, release = build
    return evr_key(int(epoch), version, release)
