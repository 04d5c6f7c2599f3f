#!/usr/bin/env bash
# Packs the Lambda function zip from a release `tfreg` built with --static-swift-stdlib and the
# glibc-compat wrappers (see the Makefile's lambda-zip target):
#   bootstrap   the stripped binary (its name selects the Lambda role; RUNPATH $ORIGIN/lib)
#   lib/        every shared library it needs that the provided.al2023 image does not ship
# and fails when the binary or a bundled library needs a symbol version Amazon Linux 2023 lacks
# (glibc 2.34, GCC 11's libstdc++: GLIBCXX_3.4.29, CXXABI_1.3.13).
#
# usage: build-zip.sh BINARY OUTPUT.zip
set -euo pipefail
shopt -s nullglob

bin=$1
out=$2
stage=$(dirname "$out")/lambda-stage
rm -rf "$stage" "$out"
mkdir -p "$stage/lib"

# What AL2023 provides and we must not bundle: glibc itself (its libraries are one unit with the
# loader) and the compiler runtime (Debian's libstdc++/libgcc_s need glibc 2.36/2.35, so the image's
# own copies are used; the check below holds the binary to what those provide).
system_lib='^(linux-vdso|ld-linux-x86-64|libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|libstdc\+\+|libgcc_s)\.so'

cp "$bin" "$stage/bootstrap"
strip --strip-all "$stage/bootstrap"
"$(dirname "$0")/../normalize-binary.sh" "$stage/bootstrap"   # the same bytes whichever directory built it
chmod 755 "$stage/bootstrap"

ldd "$bin" | awk '/=>/ { print $1, $3 }' | while read -r name path; do
    [[ $name =~ $system_lib ]] && continue
    [ -f "$path" ] || { echo "build-zip: $name not found ($path)" >&2; exit 1; }
    cp -L "$path" "$stage/lib/$name"
    chmod 644 "$stage/lib/$name"
done

# Symbol-version ceiling: version tags are compared numerically, component by component.
newest() { objdump -T "$1" | { grep -oE "\\b$2_[0-9]+(\\.[0-9]+)*\\b" || true; } | sed "s/^$2_//" | sort -V | tail -1; }
too_new() { [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" != "$2" ]; }
fail=0
for f in "$stage/bootstrap" "$stage"/lib/*; do
    for pair in GLIBC:2.34 GLIBCXX:3.4.29 CXXABI:1.3.13; do
        tag=${pair%%:*} limit=${pair#*:}
        v=$(newest "$f" "$tag")
        if too_new "$v" "$limit"; then
            echo "build-zip: $(basename "$f") needs ${tag}_$v (Amazon Linux 2023 has ${tag}_$limit)" >&2
            objdump -T "$f" | grep -E "\\b${tag}_$v\\b" | sed 's/^/    /' >&2
            fail=1
        fi
    done
done
[ $fail = 0 ] || exit 1

# The loader must resolve every bundled library from lib/ (RUNPATH), nothing missing.
missing=$(cd "$stage" && ldd ./bootstrap | grep "not found" || true)
[ -z "$missing" ] || { echo "build-zip: unresolved libraries: $missing" >&2; exit 1; }
"$stage/bootstrap" --version >/dev/null

# Reproducible archive: fixed timestamps and order, no extra attributes, so the same binary gives
# the same zip (and Terraform's source_code_hash does not change without a reason).
find "$stage" -exec touch -h -d "2000-01-01 00:00:00 UTC" {} +
(cd "$stage" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | zip -q -X -9 -@ "$(realpath -m "../$(basename "$out")")")

libs=$(ls "$stage/lib" | wc -l)
size=$(stat -c %s "$out")
printf 'build-zip: %s  %s bytes (%s MB)  bootstrap %s bytes, %s bundled libraries (%s bytes)\n' \
    "$out" "$size" "$(awk "BEGIN { printf \"%.1f\", $size / 1000000 }")" \
    "$(stat -c %s "$stage/bootstrap")" "$libs" "$(du -cb "$stage"/lib/* | tail -1 | cut -f1)"
for pair in GLIBC GLIBCXX CXXABI; do
    max=$(for f in "$stage/bootstrap" "$stage"/lib/*; do newest "$f" "$pair"; done | sort -V | tail -1)
    printf 'build-zip: newest %s version required: %s\n' "$pair" "${max:-none}"
done
