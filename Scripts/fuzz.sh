#!/usr/bin/env bash
# Coverage-guided fuzzing of SNNKit's readers with libFuzzer (swiftc -sanitize=fuzzer,address).
#
#   Scripts/fuzz.sh SECONDS [TARGET...]     (targets: onnx converted-model npy npz idx cifar part-file; default all)
#
# Builds `snnkit-fuzz` (SNNKIT_FUZZ=1, scratch folder .build-fuzz), then runs each target
# for SECONDS, as many at a time as there are cores, starting from the committed seeds in
# Fuzz/Corpus/<target> (Scripts/make_fuzz_corpus.sh) and keeping what it finds in
# .fuzz/corpus/<target>. Limits: 2 GB of memory and 10 s per input; a crash, a leak
# the address sanitizer sees, a hang or more memory stops the target and leaves the input in
# .fuzz/artifacts/<target>/. Prints per target the time, executions, corpus size and
# findings; exits 1 if any target found something. Every input that ever crashed a target is
# kept in Tests/Fixtures/fuzz/<target>/ and replayed by FuzzRegressionTests.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: Scripts/fuzz.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(onnx converted-model npy npz idx cifar part-file)
echo "== building snnkit-fuzz (-sanitize=fuzzer,address)"
# The toolset adds -sanitize=fuzzer,address to every Swift compile and link, and links with
# lld (gold fails on the instrumented objects). Corpora, findings and logs live in .fuzz/,
# outside the build folder, which SwiftPM may clean.
mkdir -p .fuzz/logs
if ! SNNKIT_FUZZ=1 swift build -c release --scratch-path .build-fuzz --product snnkit-fuzz --toolset Fuzz/toolset.json > .fuzz/logs/build.log 2>&1; then
    grep -E "error" .fuzz/logs/build.log | head -20 >&2
    echo "the fuzzer did not build (.fuzz/logs/build.log)" >&2
    exit 1
fi
binary=.build-fuzz/release/snnkit-fuzz
cores=$(nproc)
run() {
    local t=$1
    mkdir -p ".fuzz/corpus/$t" ".fuzz/artifacts/$t"
    # Leak detection stays on: the readers run in one long process, where a leak per input adds up.
    # Swift's own crash backtracer is off: it would read freed memory under ASan and hide the real report.
    SWIFT_BACKTRACE=enable=no SNNKIT_FUZZ_TARGET=$t ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=Fuzz/lsan.supp "$binary" ".fuzz/corpus/$t" "Fuzz/Corpus/$t" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix=".fuzz/artifacts/$t/" > ".fuzz/logs/$t.log" 2>&1
}
status=0
pids=() names=()
for t in "${targets[@]}"; do
    run "$t" & pids+=($!) names+=("$t")
    if [ ${#pids[@]} -ge "$cores" ]; then
        wait "${pids[0]}" || true
        pids=("${pids[@]:1}")
    fi
done
wait || true
printf '%-16s %8s %12s %8s %s\n' target seconds executions corpus findings
for t in "${targets[@]}"; do
    log=.fuzz/logs/$t.log
    # libFuzzer's last lines: "#N DONE cov: .. corp: SIZE/.." and "Done N runs in S second(s)".
    runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || grep -oE 'number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    took=$(grep -oE 'runs in [0-9]+ second' "$log" | grep -oE '[0-9]+' || echo "?")
    size=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
    found=$(grep -c "Test unit written" "$log" || true)
    printf '%-16s %8s %12s %8s %s\n' "$t" "$took" "$runs" "$size" "$found$( [ "$found" -gt 0 ] && echo " (see .fuzz/artifacts/$t, $log)")"
    [ "$found" -eq 0 ] || status=1
done
# A finding's report (the sanitizer's or libFuzzer's first lines and the stack), so that a CI
# log says what failed without the artifacts.
for t in "${targets[@]}"; do
    log=.fuzz/logs/$t.log
    grep -q "Test unit written" "$log" || continue
    echo "== $t: first finding"
    sed -n '/^==[0-9]*==\s*ERROR\|^==[0-9]*== ERROR\|ERROR: libFuzzer/,/^SUMMARY/p' "$log" | grep -vE "fuzzer::|__sanitizer_print|libc_start|_start \(" | head -30
done
exit $status
