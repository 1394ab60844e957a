"""Package → CPE / OSV package mapping (``PackagesNameConversion``, reference/altrepo.md §6.3).

A mapping ties a source package name to a CPE 2.3 name (type ``cpe``; the matcher
compares its vendor, product and target_sw) or to an OSV package (type ``osv``,
written ``osv:<ecosystem>/<name>``). Rows are never updated: setting or unsetting
writes a new row (state ``active`` / ``inactive``), the latest row per
(package, type, result, source) wins, and every change is also written to
``PncChangeHistory`` with its author and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from repotrack.errors import InputError
from repotrack.sources.vulns import parse_cpe
from repotrack.store.base import Store

__all__ = ["MAPPING_TYPES", "Mapping", "list_mappings", "set_mapping", "unset_mapping"]

MAPPING_TYPES: Final = ("cpe", "osv")
MANUAL_SOURCE: Final = "manual"


@dataclass(frozen=True)
class Mapping:
    """One active mapping."""

    pkg_name: str
    result: str
    kind: str
    source: str
    updated: datetime


def set_mapping(
    store: Store,
    *,
    pkg_name: str,
    result: str,
    user: str,
    reason: str = "",
    source: str = MANUAL_SOURCE,
) -> Mapping:
    """Map ``pkg_name`` to ``result`` (a CPE 2.3 name or ``osv:<ecosystem>/<name>``)."""
    kind = _check(pkg_name, result)
    _write(store, pkg_name, result, kind, "active", source, user, reason)
    return Mapping(pkg_name, result, kind, source, datetime.now(UTC))


def unset_mapping(
    store: Store,
    *,
    pkg_name: str,
    result: str,
    user: str,
    reason: str = "",
    source: str = MANUAL_SOURCE,
) -> None:
    """Make a mapping inactive (the history keeps it)."""
    kind = _check(pkg_name, result)
    _write(store, pkg_name, result, kind, "inactive", source, user, reason)


def list_mappings(store: Store, *, pkg_name: str | None = None) -> list[Mapping]:
    """The active mappings, of one package or of all, ordered by package name."""
    rows = store.query(
        "SELECT pkg_name, pnc_result, pnc_type, pnc_source, max(ts) AS updated FROM "
        "PackagesNameConversion WHERE pnc_type IN ('cpe', 'osv') "
        "AND ({name:String} = '' OR pkg_name = {name:String}) "
        "GROUP BY pkg_name, pnc_type, pnc_result, pnc_source "
        "HAVING argMax(pnc_state, ts) = 'active' ORDER BY pkg_name, pnc_type, pnc_result",
        {"name": pkg_name or ""},
    )
    return [Mapping(str(n), str(r), str(k), str(s), u) for n, r, k, s, u in rows]


def _check(pkg_name: str, result: str) -> str:
    if not pkg_name or any(c.isspace() for c in pkg_name):
        raise InputError("must be a package name", field="pkg_name")
    if result.startswith("osv:"):
        ecosystem, sep, name = result[4:].partition("/")
        if not (ecosystem and sep and name):
            raise InputError("an OSV package is written osv:<ecosystem>/<name>", field="result")
        return "osv"
    try:
        parse_cpe(result)
    except ValueError as exc:
        raise InputError(str(exc), field="result") from exc
    return "cpe"


def _write(
    store: Store,
    pkg_name: str,
    result: str,
    kind: str,
    state: str,
    source: str,
    user: str,
    reason: str,
) -> None:
    store.insert(
        "PncChangeHistory",
        (
            "pncc_user",
            "pncc_reason",
            "pkg_name",
            "pnc_result",
            "pnc_type",
            "pnc_state",
            "pnc_source",
        ),
        [(user, reason, pkg_name, result, kind, state, source)],
    )
    store.insert(
        "PackagesNameConversion",
        ("pkg_name", "pnc_result", "pnc_type", "pnc_state", "pnc_source"),
        [(pkg_name, result, kind, state, source)],
    )
