#!/usr/bin/env bash
# static-scratch.sh DIR: make (or check) the scratch directory of the static release builds.
#
# Why a fixed directory: swiftc records the length of a dependency's unmapped source path (in the
# swift_isEscapingClosureAtFileLocation calls that withoutActuallyEscaping checks compile to, e.g.
# HummingbirdCore's RequestBody+inboundClose.swift), although -file-prefix-map rewrites the path's
# bytes; dependencies are checked out under the scratch path, so the release binary depends on it.
# Building with one scratch path everywhere (the Makefile's STATIC_SCRATCH, /tmp/tfreg-build-static)
# makes the build directory irrelevant, as Debian builds in one fixed path for the same reason.
#
# A build cache in a shared directory decides what goes into the release binary, so it is trusted only
# when it is ours: a real directory (no symlink), owned by the caller, writable by nobody else.
set -euo pipefail
dir=${1:?usage: static-scratch.sh DIR}
fail() { echo "static-scratch: $dir: $*; remove it or set STATIC_SCRATCH=DIR (a build elsewhere differs in two bytes from one in the default path)" >&2; exit 1; }
if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
    mkdir -p "$(dirname "$dir")"
    (umask 077 && mkdir "$dir") || fail "cannot create it"
fi
[ -L "$dir" ] && fail "is a symbolic link"
[ -d "$dir" ] || fail "is not a directory"
[ "$(stat -c %u "$dir")" = "$(id -u)" ] || fail "is owned by uid $(stat -c %u "$dir"), not by you ($(id -u))"
mode=$(stat -c %a "$dir")
[ $((8#$mode & 8#022)) = 0 ] || fail "is writable by group or others (mode $mode)"
