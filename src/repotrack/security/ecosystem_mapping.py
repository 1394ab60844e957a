"""A branch's packages mapped to a distribution's advisory stream (``vulns map ecosystem``).

OSV records (AlmaLinux, Rocky, openSUSE, ...), Red Hat's CSAF and the OVAL definitions
name packages within a stream of their own: ``AlmaLinux:8``, a platform CPE such as
``cpe:/o:redhat:enterprise_linux:8``; the loaders write their ranges on the criteria
``osv:<stream>/<rpm name>``, and the matcher reaches them from a source package through
a mapping to that criteria. Most of those feeds name binary packages
(``python3-requests``), some source packages, Red Hat both (reference/vuln-formats.md
§9: map binaries to their source through the repository before comparing).

So for every source package of the branch's newest set (a binary's source RPM standing
in when the set lacks it, ``set_sources``) the sync writes an active ``osv`` mapping of
its own name and of the name of each of its binaries in the set, with source
``ecosystem``. A binary belongs to the source RPM its header names. A re-run writes
only what is missing; a pair unset by hand is not written again (the latest row of a
pair wins whatever its source, so writing it would undo the unset); rows are never
removed: a stream may serve several branches, and a name the branch no longer has
matches nothing in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from repotrack.errors import InputError
from repotrack.security.mapping import write_mapping_rows
from repotrack.security.set_sources import (
    NAMES_A_SOURCE_RPM,
    SOURCE_NVR,
    members,
    set_sources,
)
from repotrack.store.base import Store
from repotrack.store.queries import find_package_set

__all__ = ["ECOSYSTEM_SOURCE", "EcosystemSync", "sync_ecosystem"]

ECOSYSTEM_SOURCE: Final = "ecosystem"

#: (source name, package name) of the set: each source with itself, each binary that
#: names a source RPM with that source's name.
_NAMES: Final = f"""
SELECT DISTINCT source, name FROM
(
    SELECT pkg_name AS source, pkg_name AS name FROM ({set_sources("root")})
    UNION ALL
    SELECT replaceRegexpOne({SOURCE_NVR}, '-[^-]*-[^-]*$', '') AS source, pkg_name AS name
    FROM Packages_buffer
    WHERE pkg_sourcepackage = 0 AND pkg_hash IN {members("root")}
        AND {NAMES_A_SOURCE_RPM}
)
"""  # noqa: S608

#: The stream's mappings: each pair's latest state, and its latest manual state ('' if
#: it has no manual row).
_STATES: Final = """
SELECT pkg_name, pnc_result, argMax(pnc_state, ts), argMaxIf(pnc_state, ts, pnc_source = 'manual')
FROM PackagesNameConversion
WHERE pnc_type = 'osv' AND startsWith(pnc_result, {prefix:String})
GROUP BY pkg_name, pnc_result
"""


#: The streams the loaded records name (``osv:<stream>/<name>`` criteria), most ranges first.
_STREAMS: Final = """
SELECT replaceRegexpOne(cpm_product, '^osv:(.*)/[^/]*$', '\\1') AS stream
FROM CpeMatch WHERE startsWith(cpm_product, 'osv:')
GROUP BY stream ORDER BY count() DESC, stream LIMIT 20
"""


@dataclass(frozen=True)
class EcosystemSync:
    """What one sync did: mappings written, pairs already active, pairs left out
    because they were unset by hand; and, when no loaded record names the stream, the
    streams they do name (a misspelt stream maps names that can never match)."""

    stream: str
    added: list[tuple[str, str]]
    present: int
    unset_by_hand: int
    other_streams: list[str] | None = None

    def line(self) -> str:
        return (
            f"{self.stream}: {len(self.added)} mapping(s) added, {self.present} already "
            f"there, {self.unset_by_hand} unset by hand left out"
        )


def sync_ecosystem(store: Store, *, branch: str, stream: str, user: str) -> EcosystemSync:
    """Map the branch's source packages (and their binaries' names) into ``stream``."""
    if not stream.strip() or stream != stream.strip():
        raise InputError("a stream name such as AlmaLinux:8 is needed", field="stream")
    root = find_package_set(store, branch=branch).uuid
    prefix = f"osv:{stream}/"
    wanted = sorted(
        (str(source), f"{prefix}{name}")
        for source, name in store.query(_NAMES, {"root": root})
        if source and name
    )
    states = {
        (str(n), str(r)): (str(latest), str(manual))
        for n, r, latest, manual in store.query(_STATES, {"prefix": prefix})
    }
    added, present, unset = [], 0, 0
    for pair in wanted:
        latest, manual = states.get(pair, ("", ""))
        if latest == "active":
            present += 1
        elif manual == "inactive":
            unset += 1
        else:
            added.append(pair)
    reason = f"branch {branch}: stream {stream}"
    write_mapping_rows(
        store,
        [(name, result, "osv", "active", ECOSYSTEM_SOURCE, reason) for name, result in added],
        user,
    )
    streams = [str(found) for (found,) in store.query(_STREAMS)]
    other = None if stream in streams or _named(store, prefix) else streams
    return EcosystemSync(stream, added, present, unset, other)


def _named(store: Store, prefix: str) -> bool:
    """Whether a loaded range names the stream (beyond the 20 streams listed)."""
    rows = store.query(
        "SELECT 1 FROM CpeMatch WHERE startsWith(cpm_product, {prefix:String}) LIMIT 1",
        {"prefix": prefix},
    )
    return bool(rows)
