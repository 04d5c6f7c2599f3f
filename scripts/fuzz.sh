#!/usr/bin/env bash
# Builds the libFuzzer targets under Fuzz/ (TFREG_FUZZ=1 adds them to Package.swift) with
# -sanitize=fuzzer,address into $FUZZ_SCRATCH, then runs each for FUZZ_SECONDS on its committed seed
# corpus. New inputs go to $FUZZ_SCRATCH/fuzz/NAME/corpus (the committed seeds are only read); a crash,
# a timeout (-timeout=10) or an allocation beyond -rss_limit_mb leaves its input in
# $FUZZ_SCRATCH/fuzz/NAME/artifacts/, is printed with the command that reproduces it, and makes the
# script exit 1 after the remaining targets have run. Prints executions and final cov/ft per target.
#   scripts/fuzz.sh [NAME…]     (default: every Fuzz/*/ with a corpus/, less those in FUZZ_SKIP)
set -uo pipefail
# Swift's backtracer reads the crashed stack, which ASan reports as a second error; ASan reports enough.
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
SECONDS_EACH=${FUZZ_SECONDS:-60}
SCRATCH=${FUZZ_SCRATCH:-.build-fuzz}
RSS_MB=${FUZZ_RSS_LIMIT_MB:-2048}

if [ $# -gt 0 ]; then targets=("$@"); else
    targets=()
    for d in Fuzz/*/corpus; do
        t=$(basename "$(dirname "$d")")
        case " ${FUZZ_SKIP:-} " in *" $t "*) echo "fuzz: skipping $t (FUZZ_SKIP)";; *) targets+=("$t");; esac
    done
fi

build_start=$(date +%s)
for t in "${targets[@]}"; do
    [ -d "Fuzz/$t/corpus" ] || { echo "fuzz: no target Fuzz/$t (expected Fuzz/$t/main.swift and Fuzz/$t/corpus/)" >&2; exit 2; }
    echo "fuzz: building fuzz-$t"
    # gold warns about every ASan check symbol it cannot export; those lines are noise.
    TFREG_FUZZ=1 $SWIFT build --scratch-path "$SCRATCH" --product "fuzz-$t" -Xswiftc -sanitize=fuzzer,address 2>&1 \
        | grep -v -e "Cannot export local symbol '__asan" -e "unhandled; explicitly declare" -e "CMakeLists.txt$"
    [ "${PIPESTATUS[0]}" = 0 ] || { echo "fuzz: building fuzz-$t failed" >&2; exit 2; }
done
bin_dir=$(TFREG_FUZZ=1 $SWIFT build --scratch-path "$SCRATCH" --show-bin-path 2>/dev/null)
echo "fuzz: built ${#targets[@]} targets in $(( $(date +%s) - build_start ))s"

failed=()
summary=()
for t in "${targets[@]}"; do
    work="$SCRATCH/fuzz/$t"
    mkdir -p "$work/corpus" "$work/artifacts"
    max_len=$(cat "Fuzz/$t/max_len" 2>/dev/null || echo 4096)
    echo "fuzz: running fuzz-$t for ${SECONDS_EACH}s (-max_len=$max_len)"
    "$bin_dir/fuzz-$t" -max_total_time="$SECONDS_EACH" -rss_limit_mb="$RSS_MB" -max_len="$max_len" -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "Fuzz/$t/corpus" $(cat "Fuzz/$t/seed_dirs" 2>/dev/null) >"$work/log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | tail -1 | grep -o '[0-9]*$')
    cov=$(grep -o ' cov: [0-9]*' "$work/log" | tail -1 | grep -o '[0-9]*$')
    ft=$(grep -o ' ft: [0-9]*' "$work/log" | tail -1 | grep -o '[0-9]*$')
    if [ $rc -ne 0 ]; then
        failed+=("$t")
        echo "fuzz: fuzz-$t FAILED (exit $rc); log: $work/log" >&2
        grep -E -m 20 -e '^==[0-9]+==|ERROR: libFuzzer|Fatal error|deadly signal|SUMMARY|Test unit written to' "$work/log" >&2
        for a in $(grep -o 'Test unit written to .*' "$work/log" | sed 's/Test unit written to //'); do
            echo "fuzz: reproducer: $a" >&2
            echo "fuzz:   reproduce: $bin_dir/fuzz-$t $a" >&2
        done
        summary+=("$(printf '%-16s %12s %8s %8s  %s' "$t" "${execs:--}" "${cov:--}" "${ft:--}" "FAILED")")
    else
        summary+=("$(printf '%-16s %12s %8s %8s  %s' "$t" "${execs:--}" "${cov:--}" "${ft:--}" "ok")")
    fi
done

printf '\n%-16s %12s %8s %8s  %s\n' target executions cov ft result
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then echo "fuzz: failing targets: ${failed[*]}" >&2; exit 1; fi
