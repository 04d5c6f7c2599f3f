#!/usr/bin/env bash
# Reproducible artifacts, checked by sha256.
#
#   reproducible-check.sh [--reuse DIR]
#       The committed tree (git archive HEAD) is built in two different directories
#       ($REPRO_DIR/a/tfreg and $REPRO_DIR/b/elsewhere/tfreg; default REPRO_DIR /tmp/tfreg-repro)
#       with `make deb lambda-zip`, and the release binary (before stripping), the Lambda zip and
#       the .deb of each must have one sha256. --reuse DIR takes DIR (for example this checkout,
#       clean at HEAD, after `make deb lambda-zip`) as the first build, so only one more is made.
#       Two release builds: not in `make test` (make reproducible-check).
#   reproducible-check.sh --package-only SCRATCH
#       Cheap (in make test): SCRATCH/release/tfreg packed twice into a .deb and twice into a zip,
#       in different output directories, gives one sha256 each.
#
# What makes them equal: -file-prefix-map/-ffile-prefix-map (the Makefile's REPRO_FLAGS) keep the
# build directory out of the binary; the scratch directory (where dependencies are checked out) has one
# fixed path, STATIC_SCRATCH (scripts/static-scratch.sh says why), emptied before each build here so
# the second build shares nothing with the first; packaging/normalize-binary.sh zeroes swiftc's
# per-module hashes and recomputes the build-id from the stripped bytes; BuildInfo takes the commit
# and its date (TFREG_COMMIT and SOURCE_DATE_EPOCH here, where the tree has no .git); build-deb.sh
# sets every mtime to SOURCE_DATE_EPOCH and dpkg-deb sorts and clamps; build-zip.sh packs sorted names
# with fixed mtimes and no extra attributes (zip -X). The binary compared is the one shipped (the
# zip's bootstrap, stripped and normalized as the .deb's).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "reproducible-check: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

compare() { # label file1 file2
    local a b
    a=$(sha "$2") b=$(sha "$3")
    if [ "$a" = "$b" ]; then
        printf 'reproducible-check: %-8s %s  same in both (%s bytes)\n' "$1" "$a" "$(stat -c %s "$2")"
    else
        printf 'reproducible-check: %-8s DIFFERS\n  %s  %s\n  %s  %s\n' "$1" "$a" "$2" "$b" "$3" >&2
        return 1
    fi
}

if [ "${1:-}" = "--package-only" ]; then
    scratch=${2:?usage: reproducible-check.sh --package-only SCRATCH}
    bin="$scratch/release/tfreg"
    [ -x "$bin" ] || fail "missing $bin: build first (make deb or make lambda-zip)"
    work=$(mktemp -d /tmp/tfreg-pkg-repro.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    status=0
    for run in 1 2; do
        OUT="$work/deb$run" SCRATCH="$scratch" "$src/packaging/debian/build-deb.sh" >/dev/null
        "$src/packaging/lambda/build-zip.sh" "$bin" "$work/zip$run/tfreg-lambda.zip" >/dev/null
        sleep 1 # a clock-dependent timestamp would now differ
    done
    compare ".deb" "$work"/deb1/*.deb "$work"/deb2/*.deb || status=1
    compare "zip" "$work/zip1/tfreg-lambda.zip" "$work/zip2/tfreg-lambda.zip" || status=1
    exit $status
fi

reuse=""
if [ "${1:-}" = "--reuse" ]; then reuse=$(cd "${2:?--reuse DIR}" && pwd); fi
cd "$src"
commit=$(git rev-parse HEAD)
short=$(git rev-parse --short=12 HEAD)
epoch=$(git log -1 --format=%ct HEAD)
git diff --quiet HEAD -- || echo "reproducible-check: note: uncommitted changes are not built (git archive HEAD)"
base=${REPRO_DIR:-/tmp/tfreg-repro}
scratch=${STATIC_SCRATCH:-/tmp/tfreg-build-static}
dirs=()
if [ -n "$reuse" ]; then dirs+=("$reuse"); else dirs+=("$base/a/tfreg"); fi
dirs+=("$base/b/elsewhere/tfreg")
for d in "${dirs[@]}"; do
    [ "$d" = "$reuse" ] && continue
    rm -rf "$d" && mkdir -p "$d"
    git archive "$commit" | tar -x -C "$d"
    [ -f Package.resolved ] && cp Package.resolved "$d/"
    "$src/scripts/static-scratch.sh" "$scratch"
    find "$scratch" -mindepth 1 -delete
    echo "reproducible-check: building $short in $d (make deb lambda-zip, scratch $scratch emptied)"
    (cd "$d" && TFREG_COMMIT=$short SOURCE_DATE_EPOCH=$epoch STATIC_SCRATCH=$scratch make deb lambda-zip > build.log 2>&1) ||
        { tail -30 "$d/build.log"; fail "build in $d failed (log: $d/build.log)"; }
done
for d in "${dirs[@]}"; do
    # The binary shipped: the zip's bootstrap (stripped and normalized as the .deb's /usr/bin/tfreg).
    unzip -p "$d/build/tfreg-lambda-x86_64.zip" bootstrap > "$d/build/bootstrap" || fail "$d/build/tfreg-lambda-x86_64.zip has no bootstrap"
    chmod 755 "$d/build/bootstrap"
    "$d/build/bootstrap" --version
done
a=${dirs[0]} b=${dirs[1]}
status=0
compare "binary" "$a/build/bootstrap" "$b/build/bootstrap" || status=1
compare "zip" "$a/build/tfreg-lambda-x86_64.zip" "$b/build/tfreg-lambda-x86_64.zip" || status=1
deb_a=$(ls -t "$a"/build/tfreg_*.deb | head -1) deb_b=$(ls -t "$b"/build/tfreg_*.deb | head -1)
compare ".deb" "$deb_a" "$deb_b" || status=1
[ $status = 0 ] && echo "reproducible-check: ok" || echo "reproducible-check: not reproducible (diffoscope FILE1 FILE2 shows where)" >&2
exit $status
