-- A bound written without an epoch takes the package's epoch (issue 13; reference
-- vuln-formats.md §9). AlmaLinux's OSV, SUSE's and openEuler's data write fixed versions
-- without the epoch a package has (1.1.1k-9.el8_7 for 1:openssl): read as epoch 0, every
-- build of an epoch-1 package sorted above the fix and was judged fixed. The matcher
-- compares such ranges with each package's key of its version and release alone
-- (epoch 0): vk_vr here, rkey in the match targets. Rows written before this migration
-- have none; the next rematch computes them (its first run is a full one, match format 3).

ALTER TABLE PackageVersionKeys
    ADD COLUMN IF NOT EXISTS vk_vr String DEFAULT '';

ALTER TABLE VulnMatchTargets
    ADD COLUMN IF NOT EXISTS rkey String DEFAULT '';
