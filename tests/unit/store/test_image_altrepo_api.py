"""Image queries give what the ALTRepo API's own image queries give on the same store.

The SQL texts below are quoted from the ALTRepo API (liannnix/altrepoapi at e18bcd4d,
``altrepo_api/api/image/sql.py`` and ``altrepo_api/api/site_image/sql.py``) as
compatibility fixtures, with only their ``{placeholders}`` filled in the way the
endpoint code beside them fills them. The same hand-built store is asked both ways
and the answers a user gets (which images, which packages, versions, counts, order
where the API defines one) are compared, and checked against a hand count.

The store (p10 has one repository snapshot, 2024-05-01)::

    WS  p10:alt-workstation:::release.10.1.0:x86_64:install:iso
        2024-05-02  rpms: foo 1.0, bar 2.0, kernel 6.1.10   live: foo 1.0 (same build)
        2024-06-02  rpms: foo 1.1, baz 0.5, kernel 6.1.10 + 6.1.20   live: foo 1.1
    CL  p10:cloud:::rc.10.0.0:aarch64:install:qcow   2024-06-02  rpms: foo 1.0 (aarch64)
    SR  p11:alt-server:kde::release.11.0.0:x86_64:live:tar  2024-06-02  rpms: foo 1.1

so between the two WS images bar is removed, baz added, foo updated (1.0 -> 1.1) and a
second kernel build is installed beside the first; foo is in both nodes of each ISO.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from repotrack.ingest.image_meta import ImageMeta
from repotrack.store import Store
from repotrack.store.image_queries import (
    diff_images,
    image_packages,
    images_with_package,
    list_images,
)
from tests.unit.store.rows import (
    NODE_COLUMNS,
    ZERO,
    load_branch_snapshot,
    package,
    utc,
)

# altrepo_api/api/image/sql.py (e18bcd4d), get_img_root_info: /image/image_info.
GET_IMG_ROOT_INFO = """
SELECT DISTINCT
    pkgset_uuid,
    pkgset_date,
    img_tag,
    img_branch,
    img_edition,
    img_flavor,
    img_platform,
    img_release,
    img_version_major,
    img_version_minor,
    img_version_sub,
    img_arch,
    img_variant,
    img_type,
    img_kv
FROM ImagePackageSetName
WHERE (ts, img_tag) IN
    (
        SELECT
            max(ts) AS ts,
            argMax(img_tag, pkgset_date) AS img_t
        FROM ImagePackageSetName
        GROUP BY img_tag
    )
    {image_clause}
"""

# altrepo_api/api/image/sql.py (e18bcd4d), get_image_uuid_by_tag: /image/image_tag_uuid.
GET_IMAGE_UUID_BY_TAG = """
WITH
root_info AS (
SELECT
    argMax(pkgset_uuid, ts) AS uuid,
    argMax(img_kv['file'], ts) AS r_file,
    argMax(img_type, ts) AS img_type
FROM ImagePackageSetName
WHERE img_tag = '{img_tag}'
)
SELECT
    pkgset_ruuid,
    groupUniqArray(pkgset_nodename),
    any(RI.r_file),
    any(RI.img_type)
FROM PackageSetName
LEFT JOIN
(
    SELECT uuid, r_file, img_type FROM root_info
) AS RI ON RI.uuid = pkgset_ruuid
WHERE pkgset_ruuid IN (SELECT uuid FROM root_info)
    AND pkgset_depth != 0
GROUP BY pkgset_ruuid
"""

# altrepo_api/api/image/sql.py (e18bcd4d), get_image_packages: /image/image_packages.
GET_IMAGE_PACKAGES = """
WITH
pkg_hashes AS (
    SELECT DISTINCT pkg_hash
    FROM PackageSet
    WHERE pkgset_uuid IN (
        SELECT pkgset_uuid
        FROM PackageSetName
        WHERE pkgset_ruuid = '{uuid}'
        {component}
    )
),
pkg_info AS
(
SELECT
    pkg_hash,
    pkg_changelog.hash[1] AS hash
FROM Packages
WHERE pkg_hash IN (
    SELECT * FROM pkg_hashes
)
    {group}
),
pkg_changelogs AS (
SELECT chlog_hash,
       chlog_text
FROM Changelog
WHERE chlog_hash IN (
    SELECT hash FROM pkg_info
    )
)
SELECT DISTINCT
    pkg_hash,
    pkg_name,
    pkg_version,
    pkg_release,
    pkg_arch,
    pkg_summary,
    pkg_buildtime,
    pkg_changelog.date[1] AS date,
    pkg_changelog.name[1] as name,
    pkg_changelog.evr[1] AS evr,
    CHLG.chlog_text
FROM Packages
LEFT JOIN (
    SELECT * FROM pkg_changelogs
) AS CHLG ON CHLG.chlog_hash = pkg_changelog.hash[1]
WHERE pkg_hash IN (
    SELECT pkg_hash FROM pkg_info
    )
"""

# altrepo_api/api/image/sql.py (e18bcd4d), get_find_imgs_by_pkg_name:
# /image/find_images_by_package_name.
GET_FIND_IMGS_BY_PKG_NAME = """
SELECT DISTINCT
    pkg_hash,
    pkg_name,
    img_branch,
    pkg_version,
    pkg_release,
    pkg_arch,
    img_edition,
    img_tag,
    img_file,
    pkgset_date
FROM lv_all_image_packages
WHERE pkg_hash IN (
    SELECT DISTINCT pkg_hash
    FROM Packages
    {pkg_type}
)
{branch}
{edition}
{img_show}
"""

# altrepo_api/api/image/endpoints/find_image_by_package.py (e18bcd4d): the clauses the
# endpoint formats into the query above for pkg_type=binary and a branch.
FIND_BINARY_CLAUSE = """
            WHERE pkg_name = '{pkg_name}'
                AND pkg_sourcepackage = 0
            """
FIND_BRANCH_CLAUSE = "AND img_branch = '{branch}'"

# altrepo_api/api/site_image/sql.py (e18bcd4d), get_pkgs_versions_from_images:
# /site/pkgs_versions_from_images (taglike is f"{branch}:{edition}:%%:{img_type}").
GET_PKGS_VERSIONS_FROM_IMAGES = """
WITH
-- 'p9:alt-workstation:%:iso' AS taglike,
img_uuids AS (
    SELECT
        pkgset_uuid,
        pkgset_ruuid
    FROM PackageSetName
    WHERE pkgset_depth = 1
        AND pkgset_ruuid IN (
            SELECT ruuid FROM (
                SELECT
                    argMax(pkgset_uuid, ts) AS ruuid,
                    img_tag
                FROM ImagePackageSetName
                WHERE img_branch = '{branch}'
                    AND img_edition = '{edition}'
                    AND img_type = '{img_type}'
                    AND img_tag IN (
                        SELECT argMax(img_tag, ts)
                        FROM ImageTagStatus
                        WHERE img_tag LIKE '{taglike}'
                            AND img_show = 1
                        GROUP BY img_tag
                    )
                GROUP BY img_tag
            )
        )
),
img_packages AS (
    SELECT
        any(pkg_hash) AS hash,
        any(pkgset_uuid) AS uuid,
        RUUID.pkgset_ruuid AS ruuid
    FROM PackageSet
    LEFT JOIN
    (
        SELECT * FROM img_uuids
    ) AS RUUID USING pkgset_uuid
    WHERE pkgset_uuid IN (
        SELECT pkgset_uuid FROM img_uuids
    ) AND pkg_hash IN (
        SELECT pkg_hash
        FROM Packages
        WHERE pkg_name = '{name}'
            AND pkg_sourcepackage = 0
    )
    GROUP BY ruuid
)
SELECT
    PKGS.*,
    TAGS.img_tag,
    TAGS.img_platform,
    TAGS.img_variant,
    TAGS.img_version_major,
    TAGS.img_version_minor,
    TAGS.img_version_sub,
    TAGS.img_arch,
    TAGS.img_flavor,
    TAGS.img_type
FROM
(
    SELECT
        pkg_hash,
        pkg_name,
        pkg_version,
        pkg_release,
        pkg_arch,
        UUIDS.ruuid
    FROM Packages
    LEFT JOIN
    (
        SELECT hash, ruuid FROM img_packages
    ) AS UUIDS ON UUIDS.hash = Packages.pkg_hash
    WHERE pkg_hash IN (SELECT hash FROM img_packages)
) AS PKGS
LEFT JOIN
(
    SELECT
        img_tag,
        pkgset_uuid,
        img_platform,
        img_variant,
        img_version_major,
        img_version_minor,
        img_version_sub,
        img_arch,
        img_flavor,
        img_type
    FROM ImagePackageSetName
) AS TAGS ON TAGS.pkgset_uuid = PKGS.ruuid
"""

WS = "p10:alt-workstation:::release.10.1.0:x86_64:install:iso"
CL = "p10:cloud:::rc.10.0.0:aarch64:install:qcow"
SR = "p11:alt-server:kde::release.11.0.0:x86_64:live:tar"

FOO_SRC, FOO10, FOO11, FOO10_ARM = 10, 11, 12, 13
BAR, BAZ, KERNEL_10, KERNEL_20 = 21, 31, 41, 42
KERNEL = "kernel-image-std-def"


def _binaries() -> list[tuple[Any, ...]]:
    return [
        package(FOO10, "foo", "1.0", srcrpm="foo-1.0-alt1.src.rpm", srcrpm_hash=FOO_SRC),
        package(FOO11, "foo", "1.1", srcrpm="foo-1.1-alt1.src.rpm"),
        package(FOO10_ARM, "foo", "1.0", arch="aarch64", srcrpm_hash=FOO_SRC),
        package(BAR, "bar", "2.0", arch="noarch"),
        package(BAZ, "baz", "0.5"),
        package(KERNEL_10, KERNEL, "6.1.10"),
        package(KERNEL_20, KERNEL, "6.1.20"),
    ]


def _image(store: Store, tag: str, day: date, nodes: dict[str, Sequence[int]]) -> uuid.UUID:
    """An image written as the loader writes one: nodes and members first, root last."""
    branch, edition, flavor, platform, version, arch, variant, kind = tag.split(":")
    release, major, minor, sub = version.split(".")
    meta = ImageMeta.build(
        file=f"{edition}-{major}.{minor}-{arch}.{kind}",
        edition=edition,
        version=f"{major}.{minor}.{sub}",
        release=release,
        platform=platform,
        variant=variant,
        flavor=flavor,
        arch=arch,
        branch=branch,
        date=day.isoformat(),
        url=f"https://example.org/{edition}.{kind}",
        image_type=kind,
    )
    assert meta.tag == tag
    root = uuid.uuid4()
    when = utc(day.year, day.month, day.day)
    for name, hashes in nodes.items():
        node = uuid.uuid4()
        store.insert("PackageSet_buffer", ("pkgset_uuid", "pkg_hash"), [(node, h) for h in hashes])
        kv = {"type": "squashfs" if name == "live" else "rpms", "size": str(len(hashes))}
        row = (node, root, root, 1, name, when, tag, 1, list(kv), list(kv.values()))
        store.insert("PackageSetName", NODE_COLUMNS, [row])
    kv = {"type": kind, "size": "1024", "class": kind, "md5_cs": "0" * 32, **meta.kv()}
    row = (root, ZERO, root, 0, edition, when, tag, 1, list(kv), list(kv.values()))
    store.insert("PackageSetName", NODE_COLUMNS, [row])
    time.sleep(0.01)  # ImagePackageSetName.ts (ms) orders loads, as the API's argMax(ts) needs
    return root


def _build(store: Store) -> dict[str, uuid.UUID]:
    source = package(FOO_SRC, "foo", "1.0", source=True)
    load_branch_snapshot(store, "p10", utc(2024, 5, 1), [source], _binaries())
    roots = {
        "ws-may": _image(
            store,
            WS,
            date(2024, 5, 2),
            {"rpms": [FOO10, BAR, KERNEL_10], "live": [FOO10]},
        ),
        "ws-june": _image(
            store,
            WS,
            date(2024, 6, 2),
            {"rpms": [FOO11, BAZ, KERNEL_10, KERNEL_20], "live": [FOO11]},
        ),
        "cloud": _image(store, CL, date(2024, 6, 2), {"rpms": [FOO10_ARM]}),
        "server": _image(store, SR, date(2024, 6, 2), {"rpms": [FOO11]}),
    }
    # The API reads the tables, not their Buffers: flush them, as a load does not use them.
    for table in ("Packages", "PackageSet"):
        store.command(f"OPTIMIZE TABLE {table}_buffer")
    return roots


def test_images_list_the_images_image_info_lists(store: Store) -> None:
    roots = _build(store)
    theirs = store.query(GET_IMG_ROOT_INFO.format(image_clause=" AND img_branch = 'p10'"))
    # image_info.py sorts its answer: res.sort(key=lambda x: (x["date"], x["tag"]), reverse=True)
    theirs.sort(key=lambda row: (row[1], row[2]), reverse=True)
    # By hand: one image per tag, the last loaded; newest first, then the tag, descending.
    assert [row[0] for row in theirs] == [roots["cloud"], roots["ws-june"]]
    ours = list_images(store, branch="p10")
    # Ours lists every loaded image, older ones of a tag too (`query image --date` picks
    # them); the newest of each tag come in the API's order.
    assert [i.uuid for i in ours] == [roots["cloud"], roots["ws-june"], roots["ws-may"]]
    newest = [i for i in ours if i.uuid in {row[0] for row in theirs}]
    assert [(i.uuid, i.date, i.tag, i.version) for i in newest] == [
        (row[0], row[1], row[2], f"{row[8]}.{row[9]}.{row[10]}") for row in theirs
    ]
    assert [(i.edition, i.arch, i.variant, i.type) for i in newest] == [
        (row[4], row[11], row[12], row[13]) for row in theirs
    ]


def _api_image_packages(store: Store, root: uuid.UUID) -> list[tuple[int, str, str, str, str]]:
    rows = store.query(GET_IMAGE_PACKAGES.format(uuid=root, component="", group=""))
    return sorted((int(r[0]), r[1], r[2], r[3], r[4]) for r in rows)


def test_image_lists_the_packages_image_packages_lists(store: Store) -> None:
    roots = _build(store)
    ((newest, nodes, _file, kind),) = store.query(GET_IMAGE_UUID_BY_TAG.format(img_tag=WS))
    assert (newest, sorted(nodes), kind) == (roots["ws-june"], ["live", "rpms"], "iso")
    for day, root in ((None, roots["ws-june"]), (date(2024, 5, 31), roots["ws-may"])):
        contents = image_packages(store, tag=WS, day=day)
        assert contents.image.uuid == root
        theirs = _api_image_packages(store, root)
        ours = sorted((p.pkg_hash, p.name, p.version, p.release, p.arch) for p in contents.packages)
        assert ours == theirs
        assert contents.unknown == 0
    # By hand: both kernel builds of the June image, foo counted once for two nodes.
    assert [h for h, *_ in _api_image_packages(store, roots["ws-june"])] == [
        FOO11,
        BAZ,
        KERNEL_10,
        KERNEL_20,
    ]


def _api_find(store: Store, name: str, branch: str = "") -> list[tuple[Any, ...]]:
    sql = GET_FIND_IMGS_BY_PKG_NAME.format(
        pkg_type=FIND_BINARY_CLAUSE.format(pkg_name=name),
        branch=FIND_BRANCH_CLAUSE.format(branch=branch) if branch else "",
        edition="",
        img_show="",
    )
    return sorted((int(r[0]), r[7], r[9]) for r in store.query(sql))


def test_image_find_lists_each_image_package_once(store: Store) -> None:
    roots = _build(store)
    del roots
    for name, branch in (("foo", ""), ("foo", "p10"), (KERNEL, ""), ("bar", "p11")):
        theirs = _api_find(store, name, branch)
        hits = images_with_package(store, name=name, branch=branch or None)
        ours = [(h.package.pkg_hash, h.image.tag, h.image.date) for h in hits]
        assert sorted(ours) == theirs, (name, branch)
        assert len(ours) == len(theirs), (name, branch)  # no image package twice
    # By hand: foo is in the May and June WS images (in two nodes each), CL and SR.
    assert [(h, t) for h, t, _ in _api_find(store, "foo")] == [
        (FOO10, WS),
        (FOO11, WS),
        (FOO11, SR),
        (FOO10_ARM, CL),
    ]


def test_image_find_holds_the_site_versions_answer(store: Store) -> None:
    _build(store)
    store.insert("ImageTagStatus", ("img_tag", "img_show"), [(WS, "show")])
    taglike = "p10:alt-workstation:%%:iso"
    sql = GET_PKGS_VERSIONS_FROM_IMAGES.format(
        name="foo", branch="p10", edition="alt-workstation", img_type="iso", taglike=taglike
    )
    theirs = [(int(r[0]), r[2], r[3], r[4], r[6]) for r in store.query(sql)]
    # By hand: the shown WS tag's last-loaded image (June) holds foo 1.1.
    assert theirs == [(FOO11, "1.1", "alt1", "x86_64", WS)]
    hits = images_with_package(store, name="foo", branch="p10")
    newest = next(h for h in hits if h.image.tag == WS)  # ours: newest first
    assert (
        newest.package.pkg_hash,
        newest.package.version,
        newest.package.release,
        newest.package.arch,
        newest.image.tag,
    ) == theirs[0]


def test_image_diff_names_every_build_the_images_list(store: Store) -> None:
    """The API has no image diff; the builds that differ between the two images'
    /image/image_packages answers must each appear in ours."""
    roots = _build(store)
    diff = diff_images(store, old_tag=WS, new_tag=WS, old_day=date(2024, 5, 31))
    assert (diff.old_set.uuid, diff.new_set.uuid) == (roots["ws-may"], roots["ws-june"])
    old = {h for h, *_ in _api_image_packages(store, roots["ws-may"])}
    new = {h for h, *_ in _api_image_packages(store, roots["ws-june"])}
    assert {p.pkg_hash for p in diff.added} | {u.new.pkg_hash for u in diff.updated} == new - old
    assert {p.pkg_hash for p in diff.removed} | {u.old.pkg_hash for u in diff.updated} == old - new
    added = [(p.name, p.version) for p in diff.added]
    removed = [(p.name, p.version) for p in diff.removed]
    updated = [(u.name, u.old.version, u.new.version) for u in diff.updated]
    # By hand (image_packages of the two images): baz and the second kernel build are
    # new, bar is gone, foo went 1.0 -> 1.1; the 6.1.10 kernel is in both.
    assert (added, removed, updated) == (
        [("baz", "0.5"), (KERNEL, "6.1.20")],
        [("bar", "2.0")],
        [("foo", "1.0", "1.1")],
    )


def test_image_info_names_the_root_component_by_its_class(store: Store) -> None:
    """``image_info.py`` builds each image's root component as
    ``Component(name=i.kv["class"], kv=i.kv)`` and sizes it by ``kv["size"]``. Before
    migration 0016 the view left ``class`` out of ``img_kv``, so the endpoint raised
    ``KeyError: 'class'`` on this store."""
    _build(store)
    rows = store.query(GET_IMG_ROOT_INFO.format(image_clause=""))
    assert rows
    for row in rows:
        kind, kv = row[13], dict(row[14])
        assert kv["class"] == kind
        assert int(kv["size"]) >= 0


def test_migration_0016_gives_stored_images_their_class(store: Store) -> None:
    """Rows written by 0005's view (no ``class`` in ``img_kv``) get it from the upgrade."""
    from repotrack.store import migrate

    _build(store)
    store.command(
        "ALTER TABLE ImagePackageSetName UPDATE img_kv = mapFilter((k, v) -> k != 'class', "
        "img_kv) WHERE 1 SETTINGS mutations_sync = 2"
    )
    assert store.query("SELECT countIf(mapContains(img_kv, 'class')) FROM ImagePackageSetName") == [
        (0,)
    ]
    store.command("DELETE FROM repotrack_migrations WHERE version = 16")
    assert migrate(store) == ["0016_image_kv_class"]
    rows = store.query("SELECT img_type, img_kv['class'] FROM ImagePackageSetName")
    assert len(rows) == 4
    assert all(kind == cls for kind, cls in rows)
