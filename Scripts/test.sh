#!/usr/bin/env bash
# The test suite, for every instruction set this machine can run.
#
# A build compiles only its target CPU's paths of the hot loops (Package.swift picks
# skylake-avx512 or haswell from the building machine; the C helpers in Sources/AMX are
# selected by #if). So on an AVX-512 host the AVX2 paths would go untested, though
# SNNKit runs on both kinds of host: there the suite runs a second time, built for
# haswell in its own scratch folder. Arguments go to both `swift test`s.
#
# The NIR export tests need libhdf5 (loaded at run time) and check the files with the
# reference reader (Python's nir, h5py, onnx): installed here when missing and possible
# (root with Debian's apt, pip); where they cannot be had, those tests say they were skipped.
# The same for strace, which the atomic-output tests use to kill a run at each write.
#
# Then the split-and-merge evaluation on a one-node Slurm cluster (Scripts/test_slurm.sh,
# which installs Slurm and munge when it can and otherwise says SKIPPED) and the parse
# check of the Kubernetes manifests (PyYAML). Both run only for the whole suite (no
# arguments given to swift test).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ldconfig -p 2>/dev/null | grep -q 'libhdf5\(_serial\)\?\.so'; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing libhdf5 (Debian's libhdf5-103-1) for the NIR export tests"
        (apt-get update -qq && apt-get install -y -qq libhdf5-103-1) >/dev/null 2>&1 || echo "   libhdf5 could not be installed: the NIR file tests will be skipped"
    fi
fi
if ! command -v strace >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing strace (Debian) for the killed-while-writing tests"
    (apt-get update -qq && apt-get install -y -qq strace) >/dev/null 2>&1 || echo "   strace could not be installed: those tests will be skipped"
fi
PYTHON="${SNNKIT_PYTHON:-python3}"
if command -v "$PYTHON" >/dev/null && ! "$PYTHON" -c 'import nir, h5py, numpy, onnx' 2>/dev/null; then
    echo "== installing the NIR reference reader (pip: nir h5py onnx) for the NIR export tests"
    "$PYTHON" -m pip install -q nir h5py onnx >/dev/null 2>&1 || echo "   nir could not be installed: the reader check will be skipped"
fi
swift test "$@"
if [ $# -eq 0 ]; then
    Scripts/test_slurm.sh .build/debug/snnkit
    if command -v "$PYTHON" >/dev/null && ! "$PYTHON" -c 'import yaml' 2>/dev/null; then
        "$PYTHON" -m pip install -q pyyaml >/dev/null 2>&1 || true
    fi
    if command -v "$PYTHON" >/dev/null && "$PYTHON" -c 'import yaml' 2>/dev/null; then
        "$PYTHON" Scripts/kubernetes/check.py
    else
        echo "SKIPPED: the Kubernetes manifest check needs PyYAML, which could not be installed"
    fi
fi
if [ -z "${SNNKIT_TARGET_CPU:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    echo "== again for AVX2 (SNNKIT_TARGET_CPU=haswell, scratch path .build-haswell)"
    SNNKIT_TARGET_CPU=haswell swift test --scratch-path .build-haswell "$@"
fi
