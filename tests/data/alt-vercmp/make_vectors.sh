#!/bin/sh
# Regenerate vectors.json: the answers of ALT Linux's own rpm (4.13.0.1-alt15, the
# alt/rpm/sisyphus branch of the wladmis/rpm mirror, commit b4f758550) for generated
# version pairs. Its lib/rpmvercmp.c is compiled as it is, beside stubs for the two
# macro lookups it makes (buildtime honoured, no priority branch), and asked through
# ctypes. Needs git, gcc and the project's environment (uv sync); ALT_RPM_GIT names
# another clone of that repository.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --branch alt/rpm/sisyphus "${ALT_RPM_GIT:-https://github.com/wladmis/rpm}" "$work/rpm"
git -C "$work/rpm" checkout -q b4f758550
mkdir -p "$work/rpm/include-stub/rpm"
cat > "$work/rpm/include-stub/rpm/rpmutil.h" <<'H'
#define RPM_GNUC_CONST
#define RPM_GNUC_PURE
#define RPM_GNUC_NONNULL(...)
#define RPM_GNUC_PRINTF(a, b)
#define RPM_GNUC_MALLOC
#define RPM_GNUC_WARN_UNUSED_RESULT
#define RPM_GNUC_NULL_TERMINATED
H
src="$work/rpm/lib/rpmvercmp.c"
{
    echo '#define _GNU_SOURCE'
    echo '#include "rpmio/rpmstring.h"'
    echo '#include <stdlib.h>'
    sed -n '/^struct rpmEVRDT {/,/^};/p' "$work/rpm/lib/rpmlib.h"
    echo 'static int rpmExpandNumeric(const char *m) { (void)m; return 1; }'
    echo 'static char *rpmExpand(const char *m, ...) { (void)m; return ""; }'
    sed -n '/^int rpmvercmp/,/^}/p' "$src"
    sed -n '/^static int upgrade_honor_buildtime/,/^int rpmEVRDTCompare/p' "$src" | sed '$d'
    sed -n '/^int rpmEVRDTCompare/,/^}/p' "$src"
} > "$work/alt_evr.c"
gcc -I"$work/rpm" -I"$work/rpm/include-stub" -O1 -shared -fPIC -o "$work/libaltevr.so" "$work/alt_evr.c"
ALT_EVR_LIBRARY="$work/libaltevr.so" uv run --project "$here/../../.." python "$here/make_vectors.py" > "$here/vectors.json"
