"""The ALTRepo API's dependency queries, on a store repotrack loaded, agree with librpm.

Every test and third-party RPM is loaded with repotrack's own loader into a fresh chDB
store as three snapshots: ``sisyphus`` of 2024-05-01 (the project's RPMs and rpm's
test-suite ``hello`` packages), ``sisyphus`` of 2024-06-01 (every RPM except
``hello-1.0-1``) and ``p10`` of 2024-06-01 (the project's RPMs only). The SQL texts
below are quoted from the ALTRepo API (liannnix/altrepoapi, ``altrepo_api/api/*/sql.py``)
as compatibility fixtures, byte for byte; ``bind`` (from test_altrepo_queries) turns
their value placeholders into server-side parameters, and the structural ones
(``{dp_type_where_clause}``, ``{table_name}``, ``{tmp_table}``, ...) are filled the way
the API's endpoint code fills them.

The reference is librpm itself (Debian's python3-rpm, run by the system Python): per
package, the (name, version, flags) triples of its requires, conflicts, obsoletes and
provides (``rpm.ds``), which ALTRepo keeps in ``Depends`` as dp_type ``require``,
``conflict``, ``obsolete`` and ``provide`` with the raw RPMSENSE flags, ``rpmlib(...)``
requires included and weak dependencies (Recommends, Suggests, ...) left out. A
package is identified by its header digest (SHA1HEADER, or SHA256HEADER for rpm 6
packages that have no SHA-1), so a header met in two files is one package, as in the
store.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from repotrack.ingest import load_repo
from repotrack.store import Store, open_store
from tests.conftest import need_librpm_python
from tests.unit.rpm.support import own_rpms, shared_rpms
from tests.unit.store.storeutil import fresh_store_url
from tests.unit.store.test_altrepo_queries import PKG_INFO_GET_DEPENDS, bind

# altrepo_api/api/dependencies/sql.py, SQL.get_depends_bin_pkg: the dependencies of a
# package by pkg_hash (GET /dependencies/binary_package_dependencies/<pkghash>).
GET_DEPENDS_BIN_PKG = """
SELECT
    dp_name,
    dp_version,
    dp_flag,
    dp_type
FROM Depends
WHERE pkg_hash = {pkg_hash}
"""

# altrepo_api/api/site_package/sql.py, SQL.get_pkg_dependencies: a package's requires.
GET_PKG_DEPENDENCIES = """
SELECT
    dp_name,
    dp_version,
    dp_flag
FROM Depends
WHERE pkg_hash = {pkghash}
    AND dp_type = 'require'
"""

# altrepo_api/api/dependencies/sql.py, SQL.get_pkgs_depends: the packages of a branch's
# last state that have a dependency of that name (GET /dependencies/packages_by_dependency).
GET_PKGS_DEPENDS = """
SELECT
    pkg_hash,
    groupUniqArray(dp_type)
FROM Depends_buffer
WHERE dp_name = '{dp_name}'
    {dp_type_where_clause}
    AND pkg_hash IN (
        SELECT pkg_hash
        FROM {table_name}
        {branch_where_clause}
    )
GROUP BY pkg_hash
"""

# altrepo_api/api/dependencies/sql.py, SQL.create_tmp_table and SQL.get_repo_packages:
# the same endpoint's second step, those packages through last_packages by branch.
CREATE_TMP_TABLE = """
CREATE TEMPORARY TABLE {tmp_table} {columns}
"""

GET_REPO_PACKAGES = """
SELECT DISTINCT
    pkg_hash,
    pkg_name,
    pkg_version,
    pkg_release,
    pkg_arch,
    pkg_sourcepackage,
    pkg_buildtime,
    pkg_summary,
    pkg_packager_email,
    pkg_group_
FROM last_packages
WHERE pkgset_name = '{branch}'
    AND pkg_hash IN (SELECT * FROM {tmp_table})
    AND pkg_buildtime >= 0
ORDER BY pkg_name
"""

# altrepo_api/api/dependencies/sql.py, SQL.get_pkgset_depends: the endpoint's third step,
# per branch the number of rows of last_depends with that name.
GET_PKGSET_DEPENDS = """
SELECT
    count(pkg_hash),
    pkgset_name
FROM last_depends
WHERE dp_name = '{dp_name}'
    {dp_type}
group by pkgset_name
"""

# The clauses dependencies/endpoints/dependecy_info.py (PackagesDependence.get) formats
# into GET_PKGS_DEPENDS and GET_PKGSET_DEPENDS; its values are bound like the others.
DP_TYPE_WHERE_CLAUSE = "AND dp_type = '{dp_type}'"
BRANCH_WHERE_CLAUSE = "WHERE pkgset_name = '{branch}'"

#: ALTRepo's dp_type and the rpm.ds dependency kind each comes from.
KINDS = {
    "require": "requires",
    "conflict": "conflicts",
    "obsolete": "obsoletes",
    "provide": "provides",
}
RPMSENSE_RPMLIB = 1 << 24

_LIBRPM = """
import json, os, sys, rpm
kinds = json.loads(sys.argv[1])
ts = rpm.TransactionSet()
ts.setVSFlags(rpm._RPMVSF_NOSIGNATURES | rpm._RPMVSF_NODIGESTS)
out = {}
for path in json.load(sys.stdin):
    fd = os.open(path, os.O_RDONLY)
    try:
        h = ts.hdrFromFdno(fd)
    finally:
        os.close(fd)
    out[path] = {
        "key": h[rpm.RPMTAG_SHA1HEADER] or h[rpm.RPMTAG_SHA256HEADER],
        "name": h[rpm.RPMTAG_NAME],
        "version": h[rpm.RPMTAG_VERSION],
        "release": h[rpm.RPMTAG_RELEASE],
        "arch": h[rpm.RPMTAG_ARCH],
        "source": bool(h.isSource()),
        "deps": {t: [[d.N(), d.EVR(), d.Flags()] for d in rpm.ds(h, k)] for t, k in kinds.items()},
        "weak": sorted({d.N() for k in ("recommends", "suggests", "supplements", "enhances")
                        for d in rpm.ds(h, k)}),
    }
json.dump(out, sys.stdout)
"""

Dep = tuple[str, str, int]


@dataclass(frozen=True)
class Ref:
    """What librpm says of one package file."""

    key: str
    name: str
    version: str
    release: str
    arch: str
    source: bool
    deps: dict[str, list[Dep]]
    weak: list[str]


@dataclass
class Loaded:
    store: Store
    #: librpm's view of each package the store holds, by its pkg_hash
    by_hash: dict[int, Ref]
    #: librpm's view of every file loaded (two files may hold one header)
    files: list[Ref]
    #: the distinct packages of each branch's last snapshot, by header digest
    branches: dict[str, dict[str, Ref]]
    #: the distinct packages of every snapshot loaded
    everything: dict[str, Ref]


def _librpm(python: Path, paths: list[Path]) -> dict[str, Ref]:
    done = subprocess.run(
        [str(python), "-c", _LIBRPM, json.dumps(KINDS)],
        input=json.dumps([str(p) for p in paths]),
        capture_output=True,
        text=True,
        check=True,
    )
    refs = {}
    for path, v in json.loads(done.stdout).items():
        deps = {t: [(n, evr, int(f)) for n, evr, f in v["deps"][t]] for t in KINDS}
        refs[path] = Ref(
            v["key"], v["name"], v["version"], v["release"], v["arch"], v["source"], deps, v["weak"]
        )
    return refs


def _snapshot(root: Path, files: list[Path]) -> Path:
    root.mkdir()
    for f in files:
        (root / f.name).symlink_to(f)
    return root


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    python = need_librpm_python()
    base = tmp_path_factory.mktemp("altrepo-depends")
    full = base / "all"
    full.mkdir()
    own: list[Path] = []
    hello: list[Path] = []  # rpm's test-suite packages: hello-1.0-1 is dropped later
    copies: list[Path] = []
    for n, path in enumerate([*own_rpms(), *shared_rpms()]):
        copy = full / f"{n:03d}-{path.name}"  # fixture file names repeat (rpm-rs v4/v6)
        shutil.copy(path, copy)
        copies.append(copy)
        if path.parent.name == "rpms":
            own.append(copy)
        elif path.parent.name == "rpm-testsuite":
            hello.append(copy)
    if not own:
        pytest.skip("no test RPMs in tests/data/rpms; run tests/data/make_rpms.sh")
    refs = _librpm(python, copies)
    old_hello = [p for p in hello if refs[str(p)].version == "1.0"]
    snapshots = [
        ("sisyphus", date(2024, 5, 1), [*own, *hello]),
        ("sisyphus", date(2024, 6, 1), [p for p in copies if p not in old_hello]),
        ("p10", date(2024, 6, 1), own),
    ]
    branches: dict[str, dict[str, Ref]] = {}
    everything: dict[str, Ref] = {}
    with open_store(fresh_store_url(tmp_path_factory, base / "store")) as store:
        for n, (branch, day, files) in enumerate(snapshots):
            load_repo(store, branch=branch, path=_snapshot(base / f"tree{n}", files), date=day)
            members = {refs[str(p)].key: refs[str(p)] for p in files}
            branches[branch] = members  # the later snapshot of a branch is its last
            everything.update(members)
        by_name = {p.name: refs[str(p)] for p in copies}
        by_hash = {
            int(h): by_name[name]
            for h, name in store.query("SELECT pkg_hash, pkg_filename FROM Packages")
        }
        yield Loaded(store, by_hash, list(refs.values()), branches, everything)


def _hash_of(loaded: Loaded) -> dict[str, int]:
    return {ref.key: h for h, ref in loaded.by_hash.items()}


def test_each_header_is_one_stored_package(loaded: Loaded) -> None:
    # The comparisons below go package by package: every header loaded must be there once.
    assert sorted(r.key for r in loaded.by_hash.values()) == sorted(loaded.everything)
    assert {r.key for r in loaded.files} == set(loaded.everything)


def test_dependencies_by_package_equal_librpm(loaded: Loaded) -> None:
    sql = bind(GET_DEPENDS_BIN_PKG, pkg_hash="UInt64")
    mismatches = []
    compared = 0
    for pkg_hash, ref in sorted(loaded.by_hash.items(), key=lambda kv: kv[1].key):
        rows = loaded.store.query(sql, {"pkg_hash": pkg_hash})
        got = Counter((t, (n, v, f)) for n, v, f, t in rows)
        want = Counter((t, dep) for t in KINDS for dep in ref.deps[t])
        if got != want:
            mismatches.append((ref.name, ref.arch, sorted(got - want), sorted(want - got)))
        compared += sum(want.values())
    assert mismatches == []
    assert compared >= (600 if shared_rpms() else 40)


def test_requires_by_package_equal_librpm(loaded: Loaded) -> None:
    sql = bind(GET_PKG_DEPENDENCIES, pkghash="UInt64")
    for pkg_hash, ref in loaded.by_hash.items():
        rows = loaded.store.query(sql, {"pkghash": pkg_hash})
        assert Counter(rows) == Counter(ref.deps["require"]), (ref.name, ref.arch)


def test_rpmlib_requires_are_kept_and_weak_dependencies_left_out(loaded: Loaded) -> None:
    sql = bind(GET_DEPENDS_BIN_PKG, pkg_hash="UInt64")
    rpmlib = 0
    weak = 0
    for pkg_hash, ref in loaded.by_hash.items():
        rows = loaded.store.query(sql, {"pkg_hash": pkg_hash})
        rpmlib += sum(
            1
            for name, _, flag, kind in rows
            if kind == "require" and name.startswith("rpmlib(") and flag & RPMSENSE_RPMLIB
        )
        strong = {n for t in KINDS for n, _, _ in ref.deps[t]}
        only_weak = set(ref.weak) - strong
        assert not only_weak & {name for name, *_ in rows}, ref.name
        weak += len(only_weak)
    assert rpmlib >= 20
    assert weak >= 2  # rt-bz's Recommends and Suggests at least


def test_last_depends_by_hash_equal_librpm(loaded: Loaded) -> None:
    # package/sql.py pkg_info_get_depends (quoted in test_altrepo_queries) reads
    # last_depends: the rows of packages in some branch's last snapshot only.
    sql = bind(PKG_INFO_GET_DEPENDS, pkghshs="Array(UInt64)")
    rows = loaded.store.query(sql, {"pkghshs": sorted(loaded.by_hash)})
    got = {(loaded.by_hash[h].key, t, n) for h, t, n in rows}
    last = {k for members in loaded.branches.values() for k in members}
    want = {(k, t, n) for k in last for t in KINDS for n, _, _ in loaded.everything[k].deps[t]}
    assert got == want
    if shared_rpms():  # hello-1.0-1 is only in sisyphus's earlier snapshot
        assert {
            loaded.everything[k].version for k, _, _ in got if loaded.everything[k].name == "hello"
        } == {"2.0"}


@dataclass(frozen=True)
class Lookup:
    """``packages_by_dependency?dp_name=...&dp_type=...&branch=...``"""

    dp_name: str
    dp_type: str  # require, provide, conflict, obsolete or all
    third_party: bool = False


LOOKUPS = [
    Lookup("/bin/sh", "require"),
    Lookup("rpmlib(CompressedFileNames)", "require"),
    Lookup("rt-hello", "provide"),
    Lookup("(rt-hello or rt-tilde)", "require"),
    Lookup("config(rt-hello)", "all"),
    Lookup("hello", "provide", third_party=True),
    Lookup("redhat-release", "all", third_party=True),
    Lookup("super_kernel", "all", third_party=True),
]


def _by_hand(members: dict[str, Ref], lookup: Lookup) -> dict[str, tuple[set[str], int]]:
    """Per package of a branch: the kinds of its dependencies of that name, and their count."""
    found = {}
    for key, ref in members.items():
        kinds = [t for t in KINDS if lookup.dp_type in ("all", t)]
        rows = [t for t in kinds for n, _, _ in ref.deps[t] if n == lookup.dp_name]
        if rows:
            found[key] = (set(rows), len(rows))
    return found


def _fill(sql: str, **clauses: str) -> str:
    """Format the API's structural placeholders as its endpoint code does."""
    for name, clause in clauses.items():
        sql = sql.replace(f"{{{name}}}", clause)
    return sql


@pytest.mark.parametrize("lookup", LOOKUPS, ids=lambda x: f"{x.dp_type}-{x.dp_name}")
def test_packages_by_dependency_equal_librpm(loaded: Loaded, lookup: Lookup) -> None:
    if lookup.third_party and not shared_rpms():
        pytest.skip("the third-party RPMs under ../shared/fixtures/rpm are absent")
    store = loaded.store
    typed = lookup.dp_type != "all"
    type_clause = DP_TYPE_WHERE_CLAUSE if typed else ""
    params = {"dp_name": lookup.dp_name, **({"dp_type": lookup.dp_type} if typed else {})}
    pkgs_depends = bind(
        _fill(
            GET_PKGS_DEPENDS,
            dp_type_where_clause=type_clause,
            table_name="static_last_packages",
            branch_where_clause=BRANCH_WHERE_CLAUSE,
        ),
        dp_name="String",
        dp_type="String",
        branch="String",
    )
    repo_packages = bind(GET_REPO_PACKAGES, branch="String")
    hash_of = _hash_of(loaded)
    nonempty = 0
    for n, (branch, members) in enumerate(sorted(loaded.branches.items())):
        want = _by_hand(members, lookup)
        rows = store.query(pkgs_depends, {**params, "branch": branch})
        got = {loaded.by_hash[h].key: set(kinds) for h, kinds in rows}
        assert got == {k: kinds for k, (kinds, _) in want.items()}, branch
        nonempty += bool(want)

        # The endpoint's next step: the same hashes in a temporary table, read back
        # through last_packages of the branch. (The API streams the rows after its
        # "INSERT INTO {tmp_table} (*) VALUES"; here they come from a parameter.)
        tmp = f"tmp_pkg_hash_{n}"
        store.command(_fill(CREATE_TMP_TABLE, tmp_table=tmp, columns="(pkg_hash UInt64)"))
        try:
            store.command(
                f"INSERT INTO {tmp} (*) SELECT arrayJoin({{h:Array(UInt64)}})",
                {"h": [hash_of[k] for k in got]},
            )
            listed = store.query(_fill(repo_packages, tmp_table=tmp), {"branch": branch})
        finally:
            store.command(f"DROP TABLE {tmp}")
        assert [r[1] for r in listed] == sorted(r[1] for r in listed)
        assert sorted(
            (loaded.by_hash[h].key, name, version, release, bool(src), "" if src else arch)
            for h, name, version, release, arch, src, *_ in listed
        ) == sorted(
            (k, r.name, r.version, r.release, r.source, "" if r.source else r.arch)
            for k in want
            for r in [members[k]]
        ), branch
    assert nonempty, "the lookup finds nothing in any branch: a vacuous case"

    # The endpoint's last step: rows of last_depends per branch.
    pkgset_depends = bind(
        _fill(GET_PKGSET_DEPENDS, dp_type=type_clause), dp_name="String", dp_type="String"
    )
    counts = {b: c for c, b in store.query(pkgset_depends, params)}
    by_hand = {
        b: sum(c for _, c in _by_hand(members, lookup).values())
        for b, members in loaded.branches.items()
    }
    assert counts == {b: c for b, c in by_hand.items() if c}
