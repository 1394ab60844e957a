"""Mapping candidates from the NVD CPE dictionary: products named like a branch's packages.

A source package and a dictionary application (part ``a``) are candidates when the
package name equals the CPE product, compared in lower case with ``-`` and ``_`` taken
as equal. Candidates are written as ``PackagesNameConversion`` rows in state
``candidate`` (source ``cpe-dictionary``), which the matcher ignores until someone sets
the mapping (``repotrack vulns map set``); each is also recorded in
``PncChangeHistory``. A pair already known (in any state) is not suggested again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Final

from repotrack.security.mapping import change_kind
from repotrack.security.set_sources import set_sources
from repotrack.sources.vulns.cpe_dictionary import CpeEntry
from repotrack.store.base import Store
from repotrack.store.queries import find_package_set

__all__ = ["SOURCE", "suggest_mappings"]

SOURCE: Final = "cpe-dictionary"


def _fold(name: str) -> str:
    return name.lower().replace("-", "_")


def suggest_mappings(
    store: Store, *, branch: str, entries: Iterable[CpeEntry], user: str, write: bool = True
) -> list[tuple[str, str]]:
    """``(package, CPE)`` candidates for the branch's source packages (stand-ins for the
    sources of binaries without them included: ``set_sources``), sorted."""
    products: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if entry.cpe.part == "a":
            generic = entry.name.split(":")
            generic[5:10] = ["*"] * 5  # version, update, edition, language, sw_edition
            products[_fold(entry.cpe.product)].add(":".join(generic))
    package_set = find_package_set(store, branch=branch)
    names = [
        str(n)
        for (n,) in store.query(
            f"SELECT DISTINCT pkg_name FROM ({set_sources('root')})",  # noqa: S608
            {"root": package_set.uuid},
        )
    ]
    known = {
        (str(n), str(r))
        for n, r in store.query(
            "SELECT DISTINCT pkg_name, pnc_result FROM PackagesNameConversion "
            "WHERE pnc_type = 'cpe' AND pkg_name IN {names:Array(String)}",
            {"names": names},
        )
    }
    found = sorted(
        (name, cpe)
        for name in names
        for cpe in products.get(_fold(name), ())
        if (name, cpe) not in known
    )
    if write and found:
        rows = [(n, c, "cpe", "candidate", SOURCE) for n, c in found]
        store.insert(
            "PncChangeHistory",
            ("pncc_user", "pncc_reason", "pncc_source", "pncc_origin", "pkg_name", "pnc_result",
             "pnc_type", "pnc_state", "pnc_source"),
            [(user, "CPE dictionary product named like the package", *change_kind(SOURCE), *r)
             for r in rows],
        )  # fmt: skip
        store.insert(
            "PackagesNameConversion",
            ("pkg_name", "pnc_result", "pnc_type", "pnc_state", "pnc_source"),
            rows,
        )
    return found
