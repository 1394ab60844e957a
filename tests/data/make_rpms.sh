#!/bin/sh
# Rebuild the small test RPMs in tests/data/rpms/ from the specs in tests/data/specs/.
#
# Needs rpmbuild (Debian/Ubuntu: apt-get install -y rpm). Builds are made reproducible
# with SOURCE_DATE_EPOCH, a fixed build host and clamped mtimes, so re-running it gives
# the same headers except for build-environment details (rpm version, optflags).
#
#   tests/data/make_rpms.sh          # from the repository root or anywhere
#   tests/data/make_rpms.sh OUTDIR   # build into OUTDIR instead (its *.rpm are replaced);
#                                    # the tests do this to check the script still works
set -eu

here=$(cd "$(dirname "$0")" && pwd)
specs="$here/specs"
out=${1:-"$here/rpms"}
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT

export SOURCE_DATE_EPOCH=1704067200   # 2024-01-01T00:00:00Z
export LC_ALL=C

mkdir -p "$top/SOURCES" "$out"
cp "$specs"/*.txt "$top/SOURCES/"

build() {
    spec=$1
    shift
    rpmbuild -ba --quiet "$@" \
        --define "_topdir $top" \
        --define "_buildhost build.repotrack.invalid" \
        --define "use_source_date_epoch_as_buildtime 1" \
        --define "clamp_mtime_to_source_date_epoch 1" \
        --define "_build_id_links none" \
        --define "__brp_strip /bin/true" \
        "$specs/$spec" >/dev/null
}

build rt-hello.spec --target x86_64
# rpm >= 4.14 refuses non-UTF-8 text unless told; old builders wrote latin-1 freely.
build rt-tilde.spec --define "_invalid_encoding_terminates_build 0"
build rt-bz.spec

rm -f "$out"/*.rpm
find "$top/RPMS" "$top/SRPMS" -name '*.rpm' -exec cp {} "$out/" \;
ls -l "$out"
