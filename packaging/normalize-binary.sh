#!/usr/bin/env bash
# normalize-binary.sh FILE: the last step of stripping a release binary for a package (build-deb.sh,
# build-zip.sh), so that two builds of one commit in two directories give the same bytes:
#   .swift_modhash  zeroed in place (same size, so no address moves). swiftc writes each module's
#                   LLVM module hash there (for incremental code generation); it depends on the build
#                   directory and nothing reads it at run time.
#   build-id        recomputed: the SHA-1 of the file with the id zeroed (the linker's id hashed the
#                   unstripped file, build paths in its debug information included). It still names
#                   these exact bytes, as debuggers and crash reporters expect.
set -euo pipefail
f=${1:?usage: normalize-binary.sh FILE}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
section_size() { # bytes of section $1, empty when the file has none
    local hex
    hex=$(readelf -SW "$f" | awk -v s="$1" '{ for (i = 1; i < NF; i++) if ($i == s) { print $(i + 4); exit } }')
    [ -n "$hex" ] && printf '%d' "0x$hex"
}
n=$(section_size .swift_modhash || true)
if [ -n "$n" ]; then
    head -c "$n" /dev/zero > "$t/zeros"
    objcopy --update-section .swift_modhash="$t/zeros" "$f"
fi
if [ -n "$(section_size .note.gnu.build-id || true)" ]; then
    objcopy -O binary --only-section=.note.gnu.build-id "$f" "$t/note"
    size=$(stat -c %s "$t/note")
    [ "$size" = 36 ] || { echo "normalize-binary: unexpected build-id note of $size bytes (a SHA-1 id is 36)" >&2; exit 1; }
    head -c 16 "$t/note" > "$t/header"
    { cat "$t/header"; head -c 20 /dev/zero; } > "$t/zeroed"
    objcopy --update-section .note.gnu.build-id="$t/zeroed" "$f"
    # shellcheck disable=SC2059 # the format is the id as \xHH escapes
    printf "$(sha1sum "$f" | cut -c1-40 | sed 's/../\\x&/g')" > "$t/id"
    cat "$t/header" "$t/id" > "$t/final"
    objcopy --update-section .note.gnu.build-id="$t/final" "$f"
fi
