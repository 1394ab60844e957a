"""ALTRepo API read queries run unchanged on a repotrack store.

The SQL texts below are quoted from the ALTRepo API (liannnix/altrepoapi,
``altrepo_api/api/*/sql.py``) as compatibility fixtures: table names, column names
and SQL are theirs, byte for byte. Only their placeholders differ by necessity: the
API formats values in with ``%(name)s`` / ``'{name}'``; ``bind`` turns each into a
server-side ``{name:Type}`` parameter, so values never enter the SQL text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.store import Store, open_store
from tests.unit.store.rows import FOO2_BIN, FOO2_SRC, FOO_SRC, JUNE, MAY
from tests.unit.store.storeutil import fresh_store_url

# altrepo_api/api/export/sql.py (beehive): a package set by branch name and date.
GET_PKGSET_PACKAGES = """
WITH
(
    SELECT pkgset_uuid
    FROM PackageSetName
    WHERE pkgset_nodename = 'srpm'
        AND pkgset_ruuid IN
    (
        SELECT pkgset_uuid
        FROM PackageSetName
        WHERE pkgset_depth = 0
            AND pkgset_nodename = %(branch)s
            AND pkgset_date = %(date)s
    )
) AS src_uuid
SELECT
    pkg_hash,
    pkg_name,
    pkg_version,
    pkg_release
FROM Packages
WHERE pkg_sourcepackage = 1
    AND pkg_hash IN
    (
        SELECT pkg_hash
        FROM PackageSet
        WHERE pkgset_uuid = src_uuid
    )
"""

# altrepo_api/api/packageset/sql.py: branch history.
GET_BRANCH_HISTORY = """
SELECT
    pkgset_nodename,
    pkgset_date,
    toUInt32(pkgset_kv.v[indexOf(pkgset_kv.k, 'task')])
FROM PackageSetName
WHERE pkgset_depth = 0 AND pkgset_nodename IN {branches}
ORDER BY pkgset_date DESC
"""

# altrepo_api/api/package/sql.py: files of a package through Files and FileNames.
GET_PKG_FILES = """
WITH
pkg_files AS
(
    SELECT DISTINCT
        file_hashname,
        file_size,
        file_class,
        file_linkto,
        file_mtime,
        file_mode
    FROM Files
    WHERE pkg_hash = {pkghash}
)
SELECT
    FN.fn_name as filename,
    PF.file_size,
    PF.file_class,
    PF.file_linkto,
    PF.file_mtime,
    PF.file_mode
FROM
(SELECT * FROM pkg_files) AS PF
LEFT JOIN
(
    SELECT DISTINCT
        fn_hash,
        fn_name
    FROM FileNames
    WHERE fn_hash IN
    (SELECT file_hashname FROM pkg_files)
) AS FN ON FN.fn_hash = PF.file_hashname
ORDER BY filename
"""

# altrepo_api/api/package/sql.py: package info by pkg_hash (files view and last_depends).
PKG_INFO_GET_FILES = """
SELECT
    pkg_hash,
    groupUniqArray(file_name)
FROM Files_view
WHERE pkg_hash IN %(pkghshs)s
GROUP BY pkg_hash
"""

PKG_INFO_GET_DEPENDS = """
SELECT DISTINCT
    pkg_hash,
    dp_type,
    dp_name
FROM last_depends
WHERE pkg_hash IN %(pkghshs)s
"""

# altrepo_api/api/packageset/sql.py: last packages per branch.
GET_ALL_PKGSET_NAMES_WITH_PKG_COUNT = """
SELECT
    pkgset_name,
    count(pkg_hash)
FROM static_last_packages
WHERE pkg_sourcepackage = 1
GROUP BY pkgset_name
"""

# altrepo_api/api/package/sql.py: spec file of a branch's last source package.
GET_SPECFILE_BY_NAME = """
SELECT
    pkg_hash,
    pkg_name,
    pkg_version,
    pkg_release,
    specfile_name,
    specfile_date,
    base64Encode(specfile_content),
    length(specfile_content)
FROM Specfiles
WHERE pkg_hash IN
(
    SELECT pkg_hash
    FROM static_last_packages
    WHERE pkg_sourcepackage = 1
        AND pkgset_name = '{branch}'
        AND pkg_name = '{name}'
)
"""

# altrepo_api/api/site/sql.py: build tasks of a package (branch history).
GET_PACKAGE_BUILD_TASKS = """
SELECT
    pkgset_name,
    task_id,
    task_changed
FROM BranchPackageHistory
WHERE tplan_action = 'add'
    AND pkg_sourcepackage = {source}
    AND pkg_hash = {pkghash}
"""


def bind(sql: str, **types: str) -> str:
    """Replace the API's Python-side placeholders by ``{name:Type}`` parameters."""
    for name, type_ in types.items():
        param = f"{{{name}:{type_}}}"
        sql = sql.replace(f"%({name})s", param).replace(f"'{{{name}}}'", param)
        sql = sql.replace(f"{{{name}}}", param)
    return sql


@pytest.fixture
def loaded(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    with open_store(fresh_store_url(tmp_path_factory, tmp_path / "store", loaded=True)) as store:
        yield store


def test_package_set_by_name_and_date(loaded: Store) -> None:
    sql = bind(GET_PKGSET_PACKAGES, branch="String", date="DateTime")
    rows = loaded.query(sql, {"branch": "p10", "date": MAY})
    assert sorted((name, version) for _, name, version, _ in rows) == [
        ("bar", "2.0"),
        ("foo", "1.0"),
    ]


def test_branch_history(loaded: Store) -> None:
    rows = loaded.query(bind(GET_BRANCH_HISTORY, branches="Array(String)"), {"branches": ["p10"]})
    assert rows == [("p10", JUNE, 301), ("p10", MAY, 300)]


def test_files_of_a_package(loaded: Store) -> None:
    rows = loaded.query(bind(GET_PKG_FILES, pkghash="UInt64"), {"pkghash": FOO2_BIN})
    assert [(r[0], r[2]) for r in rows] == [
        ("/usr/bin/foo", "file"),
        ("/usr/share/doc/foo", "directory"),
        ("/usr/share/doc/foo/README", "file"),
    ]
    files = loaded.query(bind(PKG_INFO_GET_FILES, pkghshs="Array(UInt64)"), {"pkghshs": [FOO2_BIN]})
    assert [(h, sorted(names)) for h, names in files] == [
        (FOO2_BIN, ["/usr/bin/foo", "/usr/share/doc/foo", "/usr/share/doc/foo/README"])
    ]


def test_package_info_by_hash(loaded: Store) -> None:
    rows = loaded.query(
        bind(PKG_INFO_GET_DEPENDS, pkghshs="Array(UInt64)"), {"pkghshs": [FOO2_BIN]}
    )
    assert sorted(rows) == [(FOO2_BIN, "provide", "foo"), (FOO2_BIN, "require", "libfoo")]


def test_last_packages(loaded: Store) -> None:
    assert loaded.query(GET_ALL_PKGSET_NAMES_WITH_PKG_COUNT) == [("p10", 2)]
    sql = bind(GET_SPECFILE_BY_NAME, branch="String", name="String")
    ((pkg_hash, name, version, _, spec_name, _, _, length),) = loaded.query(
        sql, {"branch": "p10", "name": "foo"}
    )
    assert (pkg_hash, name, version, spec_name, length) == (FOO2_SRC, "foo", "1.10", "foo.spec", 24)
    assert loaded.query(sql, {"branch": "p10", "name": "foo' OR '1'='1"}) == []


def test_branch_package_history(loaded: Store) -> None:
    changed = datetime(2024, 5, 2, tzinfo=UTC)
    loaded.insert(
        "BranchPackageHistory",
        (
            "pkgset_name",
            "task_id",
            "task_changed",
            "tplan_action",
            "pkg_hash",
            "pkg_name",
            "pkg_sourcepackage",
        ),
        [("p10", 300, changed, "add", FOO_SRC, "foo", 1)],
    )
    sql = bind(GET_PACKAGE_BUILD_TASKS, source="UInt8", pkghash="UInt64")
    assert loaded.query(sql, {"source": 1, "pkghash": FOO_SRC}) == [("p10", 300, changed)]


def test_pkgset_stat_view_replaces_the_live_view(loaded: Store) -> None:
    # ALTRepo's lv_pkgset_stat is a LIVE VIEW; ours is a plain view with the same columns.
    rows = loaded.query("SELECT pkgset_name, arch, cnt FROM lv_pkgset_stat ORDER BY arch")
    assert rows == [("p10", "srpm", 2), ("p10", "x86_64", 2)]
