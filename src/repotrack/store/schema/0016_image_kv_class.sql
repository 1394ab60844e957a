-- ALTRepo's mv_image_pkgset keeps the root's 'class' key in img_kv: it leaves out only the
-- keys it turns into columns. The ALTRepo API's /image/image_info names an image's root
-- component by img_kv['class'] (and sizes it by img_kv['size']), so an img_kv without
-- 'class', as 0005's view wrote it, made that endpoint fail on this store. The view now
-- keeps it, and the rows written before get it back: the root's class is its image type
-- (img_type), as every image loader of repotrack and ALTRepo writes it.

DROP VIEW IF EXISTS mv_image_pkgset;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_image_pkgset TO ImagePackageSetName AS
SELECT
    pkgset_uuid,
    pkgset_date,
    pkgset_tag AS img_tag,
    kv['branch'] AS img_branch,
    kv['edition'] AS img_edition,
    kv['flavor'] AS img_flavor,
    kv['platform'] AS img_platform,
    kv['release'] AS img_release,
    toUInt32OrZero(kv['version_major']) AS img_version_major,
    toUInt32OrZero(kv['version_minor']) AS img_version_minor,
    toUInt32OrZero(kv['version_sub']) AS img_version_sub,
    kv['arch'] AS img_arch,
    kv['variant'] AS img_variant,
    kv['image_type'] AS img_type,
    mapFilter(
        (k, v) -> k NOT IN ('branch', 'edition', 'flavor', 'platform', 'release',
                            'version_major', 'version_minor', 'version_sub', 'arch', 'variant',
                            'image_type'),
        kv
    ) AS img_kv
FROM
(
    SELECT *, mapFromArrays(pkgset_kv.k, pkgset_kv.v) AS kv
    FROM PackageSetName
    WHERE pkgset_depth = 0 AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] != 'repository'
);

ALTER TABLE ImagePackageSetName
    UPDATE img_kv = mapUpdate(img_kv, map('class', toString(img_type)))
    WHERE NOT mapContains(img_kv, 'class')
    SETTINGS mutations_sync = 2;
