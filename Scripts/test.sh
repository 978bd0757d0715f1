#!/usr/bin/env bash
# The test suite, for every instruction set this machine can run.
#
# A build compiles only its target CPU's paths of the hot loops (Package.swift picks
# skylake-avx512 or haswell from the building machine; the C helpers in Sources/AMX are
# selected by #if). So on an AVX-512 host the AVX2 paths would go untested, though
# SNNKit runs on both kinds of host: there the suite runs a second time, built for
# haswell in its own scratch folder. Arguments go to both `swift test`s.
set -euo pipefail
cd "$(dirname "$0")/.."
swift test "$@"
if [ -z "${SNNKIT_TARGET_CPU:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    echo "== again for AVX2 (SNNKIT_TARGET_CPU=haswell, scratch path .build-haswell)"
    SNNKIT_TARGET_CPU=haswell swift test --scratch-path .build-haswell "$@"
fi
