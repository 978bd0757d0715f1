#!/usr/bin/env bash
# The test suite under the sanitizers Swift supports on Linux, each built in its own
# scratch folder (.build-address, .build-thread), the snnkit binary the end-to-end tests
# run included:
#   address  AddressSanitizer: out-of-bounds reads and writes (the kernels' hand-carved
#            buffers, the C helpers), use after free, stack overflows; a finding aborts.
#   thread   ThreadSanitizer: data races between the workers of the parallel kernels and
#            the batch shards; a race fails the run.
# Usage: Scripts/sanitize.sh [address|thread|all] [swift test arguments, e.g. --filter X]
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
[ $# -gt 0 ] && shift
case "$which" in address|thread|all) ;; *) echo "usage: $0 [address|thread|all] [swift test arguments]" >&2; exit 64;; esac
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}"
# LeakSanitizer is off: its reports at exit are allocations of Foundation (file-system
# paths) and XCTest, not of SNNKit, and they turn every exit status into 1.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0 detect_stack_use_after_return=1}"
for sanitizer in address thread; do
    [ "$which" = all ] || [ "$which" = "$sanitizer" ] || continue
    echo "== swift test --sanitize=$sanitizer (scratch path .build-$sanitizer)"
    swift test --sanitize="$sanitizer" --scratch-path ".build-$sanitizer" "$@"
done
