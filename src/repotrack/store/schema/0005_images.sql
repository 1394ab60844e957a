-- Images (reference/altrepo.md §1.6). Image package sets are PackageSetName roots whose
-- kv 'class' is not 'repository'; mv_image_pkgset turns their known kv keys into columns.

CREATE TABLE IF NOT EXISTS ImagePackageSetName
(
    pkgset_uuid       UUID,
    pkgset_date       DateTime,
    img_tag           String,
    img_branch        LowCardinality(String),
    img_edition       LowCardinality(String),
    img_flavor        LowCardinality(String),
    img_platform      LowCardinality(String),
    img_release       LowCardinality(String),
    img_version_major UInt32,
    img_version_minor UInt32,
    img_version_sub   UInt32,
    img_arch          LowCardinality(String),
    img_variant       LowCardinality(String),
    img_type          LowCardinality(String),
    img_kv            Map(String, String),
    ts                DateTime64(3) MATERIALIZED now64()
)
ENGINE = MergeTree
PRIMARY KEY (pkgset_date, img_branch, img_edition)
ORDER BY (pkgset_date, img_branch, img_edition, img_arch, img_variant, img_release);

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
        (k, v) -> k NOT IN ('class', 'branch', 'edition', 'flavor', 'platform', 'release',
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

CREATE TABLE IF NOT EXISTS ImageStatus
(
    img_branch         LowCardinality(String),
    img_edition        LowCardinality(String),
    img_name           String,
    img_show           Enum8('hide' = 0, 'show' = 1),
    img_start_date     DateTime,
    img_end_date       DateTime,
    img_summary_ru     String,
    img_summary_en     String,
    img_description_ru String,
    img_description_en String,
    img_mailing_list   LowCardinality(String),
    img_name_bugzilla  LowCardinality(String),
    img_json           String,
    ts                 DateTime64 MATERIALIZED now64()
)
ENGINE = MergeTree
PRIMARY KEY (img_branch, img_edition)
ORDER BY (img_branch, img_edition, img_show);

CREATE TABLE IF NOT EXISTS ImageTagStatus
(
    img_tag  String,
    img_show Enum8('hide' = 0, 'show' = 1),
    ts       DateTime64 MATERIALIZED now64()
)
ENGINE = ReplacingMergeTree
ORDER BY img_tag;
