-- Package sets, packages and their content: ALTRepo's schema (sql/0000_initial.sql),
-- table and column names and types unchanged (reference/altrepo.md §1.1, §1.2).
-- Loaders write into the *_buffer and *_insert tables; materialized views derive the rest.

CREATE TABLE IF NOT EXISTS PackageSetName
(
    pkgset_uuid     UUID,
    pkgset_puuid    UUID,
    pkgset_ruuid    UUID,
    pkgset_depth    UInt8,
    pkgset_nodename String,
    pkgset_date     DateTime,
    pkgset_tag      String,
    pkgset_complete UInt8,
    pkgset_kv       Nested(k String, v String)
)
ENGINE = MergeTree
PRIMARY KEY (pkgset_date, pkgset_nodename)
ORDER BY (pkgset_date, pkgset_nodename, pkgset_ruuid, pkgset_depth);

CREATE TABLE IF NOT EXISTS PackageSet
(
    pkgset_uuid UUID,
    pkg_hash    UInt64
)
ENGINE = ReplacingMergeTree
PRIMARY KEY pkgset_uuid
ORDER BY (pkgset_uuid, pkg_hash);

CREATE TABLE IF NOT EXISTS PackageSet_buffer AS PackageSet
ENGINE = Buffer(currentDatabase(), PackageSet, 16, 10, 100, 10000, 1000000, 1000000, 10000000);

CREATE TABLE IF NOT EXISTS PackageHash
(
    pkgh_mmh     UInt64,
    pkgh_md5     FixedString(16),
    pkgh_sha1    FixedString(20),
    pkgh_sha256  FixedString(32),
    pkgh_blake2b FixedString(64)
)
ENGINE = ReplacingMergeTree
PRIMARY KEY pkgh_mmh
ORDER BY (pkgh_mmh, pkgh_md5, pkgh_sha256);

CREATE TABLE IF NOT EXISTS PackageHash_buffer AS PackageHash
ENGINE = Buffer(currentDatabase(), PackageHash, 16, 10, 100, 10000, 1000000, 1000000, 10000000);

CREATE VIEW IF NOT EXISTS PackageHash_view AS
SELECT
    pkgh_mmh,
    lower(hex(pkgh_md5))     AS pkgh_md5,
    lower(hex(pkgh_sha1))    AS pkgh_sha1,
    lower(hex(pkgh_sha256))  AS pkgh_sha256,
    lower(hex(pkgh_blake2b)) AS pkgh_blake2b
FROM PackageHash_buffer;

CREATE TABLE IF NOT EXISTS Packages
(
    pkg_hash              UInt64,
    pkg_cs                FixedString(20),
    pkg_packager          LowCardinality(String),
    pkg_packager_email    LowCardinality(String),
    pkg_name              String,
    pkg_arch              LowCardinality(String),
    pkg_version           String,
    pkg_release           String,
    pkg_epoch             UInt32,
    pkg_serial_           UInt32,
    pkg_buildtime         UInt32,
    pkg_buildhost         LowCardinality(String),
    pkg_size              UInt64,
    pkg_archivesize       UInt64,
    pkg_filesize          UInt64,
    pkg_rpmversion        LowCardinality(String),
    pkg_cookie            String,
    pkg_sourcepackage     UInt8,
    pkg_disttag           String,
    pkg_sourcerpm         String,
    pkg_srcrpm_hash       UInt64,
    pkg_filename          String,
    pkg_complete          UInt8,
    pkg_summary           String,
    pkg_description       String,
    pkg_changelog         Nested(date DateTime, name String, evr String, hash UInt64),
    pkg_distribution      LowCardinality(String),
    pkg_vendor            LowCardinality(String),
    pkg_gif               String,
    pkg_xpm               String,
    pkg_license           LowCardinality(String),
    pkg_group_            String,
    pkg_url               LowCardinality(String),
    pkg_os                LowCardinality(String),
    pkg_prein             String,
    pkg_postin            String,
    pkg_preun             String,
    pkg_postun            String,
    pkg_icon              String,
    pkg_preinprog         Array(String),
    pkg_postinprog        Array(String),
    pkg_preunprog         Array(String),
    pkg_postunprog        Array(String),
    pkg_buildarchs        Array(LowCardinality(String)),
    pkg_verifyscript      String,
    pkg_verifyscriptprog  Array(String),
    pkg_prefixes          Array(LowCardinality(String)),
    pkg_instprefixes      Array(String),
    pkg_optflags          LowCardinality(String),
    pkg_disturl           String,
    pkg_payloadformat     LowCardinality(String),
    pkg_payloadcompressor LowCardinality(String),
    pkg_payloadflags      LowCardinality(String),
    pkg_platform          LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (pkg_name, pkg_arch)
ORDER BY (pkg_name, pkg_arch, pkg_hash, pkg_srcrpm_hash, pkg_packager, pkg_packager_email)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS Packages_buffer AS Packages
ENGINE = Buffer(currentDatabase(), Packages, 16, 10, 200, 10000, 1000000, 10000000, 100000000);

CREATE TABLE IF NOT EXISTS Changelog
(
    chlog_hash UInt64,
    chlog_text String
)
ENGINE = ReplacingMergeTree
PRIMARY KEY chlog_hash
ORDER BY (chlog_hash, chlog_text);

CREATE TABLE IF NOT EXISTS Changelog_buffer AS Changelog
ENGINE = Buffer(currentDatabase(), Changelog, 16, 10, 100, 1000, 1000000, 1000000, 10000000);

CREATE TABLE IF NOT EXISTS Depends
(
    pkg_hash   UInt64,
    dp_name    String,
    dp_version String,
    dp_flag    UInt32,
    dp_type    Enum8('require' = 1, 'conflict' = 2, 'obsolete' = 3, 'provide' = 4)
)
ENGINE = ReplacingMergeTree
PRIMARY KEY dp_name
ORDER BY (dp_name, dp_version, dp_type, dp_flag, pkg_hash);

CREATE TABLE IF NOT EXISTS Depends_buffer AS Depends
ENGINE = Buffer(currentDatabase(), Depends, 16, 10, 200, 10000, 1000000, 1000000, 10000000);

CREATE TABLE IF NOT EXISTS Files
(
    pkg_hash        UInt64,
    file_hashname   UInt64,
    file_hashdir    UInt64,
    file_linkto     String,
    file_md5        FixedString(16),
    file_size       UInt32,
    file_mode       UInt16,
    file_rdev       UInt16,
    file_mtime      DateTime,
    file_flag       UInt16,
    file_username   LowCardinality(String),
    file_groupname  LowCardinality(String),
    file_verifyflag UInt32,
    file_device     UInt32,
    file_lang       LowCardinality(String),
    file_class      Enum8('file' = 0, 'directory' = 1, 'symlink' = 2, 'socket' = 3,
                          'block' = 4, 'char' = 5, 'fifo' = 6)
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (pkg_hash, file_hashname)
ORDER BY (pkg_hash, file_hashname, file_class, file_md5);

CREATE TABLE IF NOT EXISTS Files_buffer AS Files
ENGINE = Buffer(currentDatabase(), Files, 16, 10, 100, 1000, 100000, 1000000, 10000000);

CREATE TABLE IF NOT EXISTS FileNames
(
    fn_name String,
    fn_hash UInt64 MATERIALIZED murmurHash3_64(fn_name)
)
ENGINE = ReplacingMergeTree
ORDER BY fn_name;

CREATE TABLE IF NOT EXISTS FileNames_buffer AS FileNames
ENGINE = Buffer(currentDatabase(), FileNames, 16, 10, 100, 1000, 100000, 1000000, 10000000);

CREATE TABLE IF NOT EXISTS Files_insert
(
    pkg_hash        UInt64,
    file_name       String,
    file_linkto     String,
    file_md5        FixedString(16),
    file_size       UInt32,
    file_mode       UInt16,
    file_rdev       UInt16,
    file_mtime      DateTime,
    file_flag       UInt16,
    file_username   LowCardinality(String),
    file_groupname  LowCardinality(String),
    file_verifyflag UInt32,
    file_device     UInt32,
    file_lang       LowCardinality(String),
    file_class      Enum8('file' = 0, 'directory' = 1, 'symlink' = 2, 'socket' = 3,
                          'block' = 4, 'char' = 5, 'fifo' = 6)
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_files TO Files_buffer AS
SELECT
    pkg_hash,
    murmurHash3_64(file_name) AS file_hashname,
    murmurHash3_64(arrayStringConcat(arrayPopBack(splitByChar('/', file_name)), '/')) AS file_hashdir,
    file_linkto,
    file_md5,
    file_size,
    file_mode,
    file_rdev,
    file_mtime,
    file_flag,
    file_username,
    file_groupname,
    file_verifyflag,
    file_device,
    file_lang,
    file_class
FROM Files_insert;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_filenames_filename TO FileNames_buffer AS
SELECT file_name AS fn_name
FROM Files_insert;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_filenames_filedir TO FileNames_buffer AS
SELECT arrayStringConcat(arrayPopBack(splitByChar('/', file_name)), '/') AS fn_name
FROM Files_insert;

CREATE VIEW IF NOT EXISTS Files_view AS
SELECT FN.fn_name AS file_name, F.*
FROM Files_buffer AS F
LEFT JOIN
(
    SELECT DISTINCT fn_hash, fn_name FROM FileNames_buffer
) AS FN ON FN.fn_hash = F.file_hashname;

CREATE TABLE IF NOT EXISTS Specfiles
(
    pkg_hash        UInt64,
    pkg_name        String,
    pkg_epoch       UInt32,
    pkg_version     String,
    pkg_release     String,
    specfile_name   String,
    specfile_date   DateTime,
    specfile_content String
)
ENGINE = ReplacingMergeTree
ORDER BY (pkg_hash, specfile_content);

CREATE TABLE IF NOT EXISTS Specfiles_buffer AS Specfiles
ENGINE = Buffer(currentDatabase(), Specfiles, 16, 10, 100, 1000, 100000, 100000, 1000000);

CREATE TABLE IF NOT EXISTS Specfiles_insert
(
    pkg_hash                UInt64,
    pkg_name                String,
    pkg_epoch               UInt32,
    pkg_version             String,
    pkg_release             String,
    specfile_name           String,
    specfile_date           DateTime,
    specfile_content_base64 String
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_specfiles TO Specfiles_buffer AS
SELECT
    pkg_hash,
    pkg_name,
    pkg_epoch,
    pkg_version,
    pkg_release,
    specfile_name,
    specfile_date,
    base64Decode(specfile_content_base64) AS specfile_content
FROM Specfiles_insert;

CREATE TABLE IF NOT EXISTS SrcPackagesLastChangelog
(
    pkg_hash   UInt64,
    chlog_nick String,
    chlog_name String,
    chlog_date DateTime,
    chlog_evr  String,
    chlog_text String
)
ENGINE = ReplacingMergeTree
ORDER BY pkg_hash;

-- Fires when Packages_buffer flushes into Packages; the changelog text must have been
-- written (Changelog_buffer) before, which the repository load order guarantees.
-- Inside a materialized view every reference to the source table (here Packages)
-- reads the inserted block only, which keeps the Changelog lookup small.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_src_packages_last_changelog TO SrcPackagesLastChangelog AS
SELECT
    P.pkg_hash AS pkg_hash,
    splitByChar('@', replaceOne(extract(P.chlog_name, '<(.+)>'), ' at ', '@'))[1] AS chlog_nick,
    P.chlog_name AS chlog_name,
    P.chlog_date AS chlog_date,
    P.chlog_evr AS chlog_evr,
    CL.chlog_text AS chlog_text
FROM
(
    SELECT
        pkg_hash,
        pkg_changelog.name[1] AS chlog_name,
        pkg_changelog.date[1] AS chlog_date,
        pkg_changelog.evr[1]  AS chlog_evr,
        pkg_changelog.hash[1] AS chlog_hash
    FROM Packages
    WHERE pkg_sourcepackage = 1 AND notEmpty(pkg_changelog.hash)
) AS P
LEFT JOIN
(
    SELECT chlog_hash, any(chlog_text) AS chlog_text
    FROM Changelog_buffer
    WHERE chlog_hash IN (SELECT pkg_changelog.hash[1] FROM Packages WHERE pkg_sourcepackage = 1)
    GROUP BY chlog_hash
) AS CL ON CL.chlog_hash = P.chlog_hash;

CREATE TABLE IF NOT EXISTS PackagesSourceAndBinaries
(
    buildtime    SimpleAggregateFunction(max, UInt32),
    src_pkg_name String,
    bin_pkg_name String
)
ENGINE = AggregatingMergeTree
ORDER BY (src_pkg_name, bin_pkg_name);

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_packages_source_and_binaries TO PackagesSourceAndBinaries AS
SELECT
    pkg_buildtime AS buildtime,
    arrayStringConcat(arrayPopBack(arrayPopBack(splitByChar('-', pkg_sourcerpm))), '-') AS src_pkg_name,
    pkg_name AS bin_pkg_name
FROM Packages
WHERE pkg_srcrpm_hash != 0 AND NOT startsWith(pkg_name, 'i586-');
