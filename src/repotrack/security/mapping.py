"""Package → CPE / OSV package mapping (``PackagesNameConversion``, reference/altrepo.md §6.3).

A mapping ties a source package name to a CPE 2.3 name (type ``cpe``; the matcher
compares its vendor, product and target_sw) or to an OSV package (type ``osv``,
written ``osv:<ecosystem>/<name>``). Rows are never updated: setting or unsetting
writes a new row (state ``active`` / ``inactive``), the latest row per
(package, type, result, source) wins, and every change is also written to
``PncChangeHistory`` with its author and reason.

Repology (``sync_repology``): ``repotrack load repology`` stores which repology project
each ALT package belongs to (``pnc_type`` = the repology repo, ``alt_p10``;
``pnc_result`` = the project). ALTRepo keys ``cpe`` rows by the project
(reference/altrepo.md §6.3: ALT name → project → CPE), repotrack's matcher by the
source package name; the sync bridges the two: for a package whose project is named
differently and has active CPEs (mappings of the project's name, set by hand or from
the dictionary), it writes the same CPEs for the package with source ``repology``.
Overrides win: a package with an active manual mapping takes nothing from repology (its
repology rows become inactive), and a CPE unset by hand for a package is not written
for it. A re-run writes nothing; every change (new, dropped, replaced CPE) is also
written to ``PncChangeHistory``.

The check (``check_mappings``): a mapped CPE whose (vendor, product) no loaded range
and no NVD match criteria (``CpeMatchStrings``, the CPE match feed) names can never
match; the check lists each active mapping with what NVD knows of its product.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from repotrack.errors import InputError
from repotrack.sources.vulns import parse_cpe
from repotrack.store.base import Store

__all__ = [
    "MAPPING_TYPES",
    "Mapping",
    "MappingCheck",
    "RepologySync",
    "check_mappings",
    "list_mappings",
    "set_mapping",
    "sync_repology",
    "unset_mapping",
    "write_mapping_rows",
]

MAPPING_TYPES: Final = ("cpe", "osv")
MANUAL_SOURCE: Final = "manual"
REPOLOGY_SOURCE: Final = "repology"


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


@dataclass(frozen=True)
class RepologySync:
    """What one repology sync did: mappings written active, made inactive, and packages
    left to their manual mappings."""

    activated: list[tuple[str, str]]
    deactivated: list[tuple[str, str]]
    overridden: int

    def line(self) -> str:
        return (
            f"repology: {len(self.activated)} mapping(s) added, {len(self.deactivated)} "
            f"dropped, {self.overridden} package(s) kept to their manual mappings"
        )


#: (ALT name, project) pairs of the stored repology data, as of now.
_REPOLOGY_PAIRS: Final = """
SELECT pkg_name, pnc_result, pnc_type FROM PackagesNameConversion
WHERE pnc_source = 'repology' AND pnc_type NOT IN ('cpe', 'osv')
    AND (empty({repos:Array(String)}) OR has({repos:Array(String)}, pnc_type))
GROUP BY pkg_name, pnc_type, pnc_result
HAVING argMax(pnc_state, ts) = 'active'
"""

#: Active CPEs of a name from any source but the sync's own (projects' CPEs).
_NAME_CPES: Final = """
SELECT pkg_name, pnc_result FROM PackagesNameConversion
WHERE pnc_type = 'cpe' AND pnc_source != 'repology' AND pkg_name IN {names:Array(String)}
GROUP BY pkg_name, pnc_result, pnc_source
HAVING argMax(pnc_state, ts) = 'active'
"""

_MANUAL_ROWS: Final = """
SELECT pkg_name, pnc_result, argMax(pnc_state, ts) FROM PackagesNameConversion
WHERE pnc_source = 'manual' AND pnc_type IN ('cpe', 'osv')
GROUP BY pkg_name, pnc_type, pnc_result
"""

_SYNCED: Final = """
SELECT pkg_name, pnc_result FROM PackagesNameConversion
WHERE pnc_source = 'repology' AND pnc_type = 'cpe'
GROUP BY pkg_name, pnc_result
HAVING argMax(pnc_state, ts) = 'active'
"""


def sync_repology(
    store: Store, *, repos: Sequence[str] = (), user: str = "repotrack"
) -> RepologySync:
    """Bring the ``repology`` CPE mappings in line with the stored repology projects."""
    pairs = [
        (str(n), str(p), str(r)) for n, p, r in store.query(_REPOLOGY_PAIRS, {"repos": list(repos)})
    ]
    projects = sorted({p for _, p, _ in pairs})
    cpes: dict[str, list[str]] = {}
    for name, cpe in store.query(_NAME_CPES, {"names": projects}) if projects else []:
        cpes.setdefault(str(name), []).append(str(cpe))
    manual_state = {(str(n), str(r)): str(state) for n, r, state in store.query(_MANUAL_ROWS)}
    manual_rows = set(manual_state)
    manual = {n for (n, _), state in manual_state.items() if state == "active"}
    wanted: dict[tuple[str, str], str] = {}
    overridden: set[str] = set()
    for name, project, repo in pairs:
        if name == project or project not in cpes:
            continue  # the project's own rows already name the package
        if name in manual:
            overridden.add(name)
            continue
        for cpe in cpes[project]:
            if (name, cpe) not in manual_rows:  # unset by hand: not from repology either
                wanted.setdefault((name, cpe), f"repology {repo}: project {project}")
    synced = {(str(n), str(r)) for n, r in store.query(_SYNCED)}
    activated = sorted(set(wanted) - synced)
    # A pair that also has a manual row is left to it: the matcher takes the newest row
    # of a (package, CPE) whatever its source, so an inactive row here would undo a set.
    deactivated = sorted(synced - set(wanted) - manual_rows)
    changes = [(n, r, "active", wanted[(n, r)]) for n, r in activated]
    changes += [
        (
            n,
            r,
            "inactive",
            "overridden by a manual mapping" if n in manual else "no longer in repology",
        )
        for n, r in deactivated
    ]
    _write_many(store, changes, user)
    return RepologySync(activated, deactivated, len(overridden))


@dataclass(frozen=True)
class MappingCheck:
    """An active CPE mapping and what the loaded NVD data knows of its product.

    ``ranges``: ``CpeMatch`` rows naming the (vendor, product) (of every stored version);
    ``criteria`` and ``names``: NVD match criteria of the product and the concrete CPE
    names they list (the CPE match feed). All zero: the mapping can never match.
    """

    pkg_name: str
    result: str
    source: str
    ranges: int
    criteria: int
    names: int

    @property
    def known(self) -> bool:
        return self.ranges > 0 or self.criteria > 0


_PRODUCT_COUNTS: Final = """
SELECT vendor, product, sum(r), sum(c), sum(n) FROM
(
    SELECT cpm_vendor AS vendor, cpm_product AS product, count() AS r, 0 AS c, 0 AS n
    FROM CpeMatch WHERE concat(cpm_vendor, '\t', cpm_product) IN {products:Array(String)}
    GROUP BY vendor, product
    UNION ALL
    SELECT mcs_vendor, mcs_product, 0, count(), sum(length(names)) FROM
    (
        SELECT mcs_id, argMax(mcs_vendor, ts) AS mcs_vendor, argMax(mcs_product, ts) AS mcs_product,
            argMax(mcs_cpe_names, ts) AS names
        FROM CpeMatchStrings GROUP BY mcs_id
    )
    WHERE concat(mcs_vendor, '\t', mcs_product) IN {products:Array(String)}
    GROUP BY mcs_vendor, mcs_product
)
GROUP BY vendor, product
"""


def check_mappings(store: Store, *, pkg_name: str | None = None) -> list[MappingCheck]:
    """Every active CPE mapping (of one package or of all) with what NVD knows of it."""
    mappings = [m for m in list_mappings(store, pkg_name=pkg_name) if m.kind == "cpe"]
    parsed = {m.result: parse_cpe(m.result) for m in mappings}
    products = sorted({(c.vendor, c.product) for c in parsed.values()})
    counts: dict[tuple[str, str], tuple[int, int, int]] = {}
    if products:
        keys = [f"{vendor}\t{product}" for vendor, product in products]
        for vendor, product, r, c, n in store.query(_PRODUCT_COUNTS, {"products": keys}):
            counts[(str(vendor), str(product))] = (int(r), int(c), int(n))
    return [
        MappingCheck(
            m.pkg_name,
            m.result,
            m.source,
            *counts.get((parsed[m.result].vendor, parsed[m.result].product), (0, 0, 0)),
        )
        for m in mappings
    ]


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
    write_mapping_rows(store, [(pkg_name, result, kind, state, source, reason)], user)


def _write_many(store: Store, changes: Iterable[tuple[str, str, str, str]], user: str) -> None:
    """``repology`` CPE rows: (package, CPE, state, reason) each."""
    rows = [(n, r, "cpe", state, REPOLOGY_SOURCE, why) for n, r, state, why in changes]
    if rows:
        write_mapping_rows(store, rows, user)


def change_kind(source: str) -> tuple[str, str]:
    """A history row's ``pncc_source`` and ``pncc_origin``, as the ALTRepo API reads them
    (its user activity lists ``manual`` changes of ``parent`` origin): a mapping set or
    unset by hand is a manual change made at the package itself; one the repology sync
    copies from its project's mapping is automatic and derived (``child``); any other
    (the dictionary's suggestions, a stream's mapping) automatic, at the package."""
    if source == MANUAL_SOURCE:
        return "manual", "parent"
    return "auto", "child" if source == REPOLOGY_SOURCE else "parent"


def write_mapping_rows(
    store: Store, rows: list[tuple[str, str, str, str, str, str]], user: str
) -> None:
    """Write mapping rows (package, result, type, state, source, reason): the history
    first, then the mappings, so a mapping never exists without its history.

    A change whose history entry is newer than the mapping's last row, with the same
    state, was cut short between the two writes (a kill): its entry is not written
    again, only the row. Before 2026-12-07 the rerun left two entries of one change.
    """
    if not rows:
        return
    pending = _written_history_only(store, rows)
    history = [r for r in rows if (r[0], r[1], r[2], r[4], r[3]) not in pending]
    if history:
        _insert_history(store, history, user)
    store.insert(
        "PackagesNameConversion",
        ("pkg_name", "pnc_result", "pnc_type", "pnc_state", "pnc_source"),
        [(n, r, k, state, source) for n, r, k, state, source, _ in rows],
    )


def _written_history_only(
    store: Store, rows: list[tuple[str, str, str, str, str, str]]
) -> set[tuple[str, str, str, str, str]]:
    """(package, result, type, source, state) whose latest history entry says ``state``
    and is newer than the mapping's latest row: a change killed after its history."""
    found = store.query(
        "SELECT H.pkg_name, H.pnc_result, H.pnc_type, H.pnc_source, H.state FROM "
        "(SELECT pkg_name, pnc_result, pnc_type, pnc_source, argMax(pnc_state, ts) AS state, "
        "  max(ts) AS written FROM PncChangeHistory WHERE pkg_name IN {names:Array(String)} "
        "  GROUP BY pkg_name, pnc_result, pnc_type, pnc_source) AS H "
        "LEFT JOIN "
        "(SELECT pkg_name, pnc_result, pnc_type, pnc_source, max(ts) AS written "
        "  FROM PackagesNameConversion WHERE pkg_name IN {names:Array(String)} "
        "  GROUP BY pkg_name, pnc_result, pnc_type, pnc_source) AS M "
        "USING (pkg_name, pnc_result, pnc_type, pnc_source) "
        "WHERE H.written > M.written",
        {"names": sorted({r[0] for r in rows})},
    )
    return {(str(n), str(r), str(k), str(src), str(st)) for n, r, k, src, st in found}


def _insert_history(
    store: Store, rows: list[tuple[str, str, str, str, str, str]], user: str
) -> None:
    store.insert(
        "PncChangeHistory",
        (
            "pncc_user",
            "pncc_reason",
            "pncc_source",
            "pncc_origin",
            "pkg_name",
            "pnc_result",
            "pnc_type",
            "pnc_state",
            "pnc_source",
        ),
        [
            (user, why, *change_kind(source), n, r, k, state, source)
            for n, r, k, state, source, why in rows
        ],
    )
