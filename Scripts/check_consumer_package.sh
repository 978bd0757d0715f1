#!/usr/bin/env bash
# Checks that SNNKit works as a versioned SwiftPM dependency: clones the repository's
# committed HEAD into a temporary folder, tags it, and builds and runs a throwaway package
# that depends on it with `.package(url: "file://...", from: VERSION)` and `import SNNKit`.
# SwiftPM refuses unsafeFlags in versioned dependencies before tools 6.2; this proves the
# manifest's flags are accepted now.
#
# Usage: Scripts/check_consumer_package.sh [REPO] (default: this repository)
# Env: SNNKIT_CONSUMER_VERSION (default 0.1.0), KEEP=1 keeps the temporary folder.
# It rebuilds SNNKit and its dependencies from scratch: expect several minutes.
set -euo pipefail

repo="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
version="${SNNKIT_CONSUMER_VERSION:-0.1.0}"
work="$(mktemp -d "${TMPDIR:-/tmp}/snnkit-consumer.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then echo "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi

git clone --quiet "$repo" "$work/SNNKit"
git -C "$work/SNNKit" tag -f "$version" >/dev/null
echo "SNNKit $(git -C "$work/SNNKit" rev-parse --short HEAD) tagged $version"

mkdir -p "$work/Consumer/Sources/Consumer"
cat > "$work/Consumer/Package.swift" <<MANIFEST
// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [.package(url: "file://$work/SNNKit", from: "$version")],
    targets: [.executableTarget(name: "Consumer", dependencies: [.product(name: "SNNKit", package: "SNNKit")])]
)
MANIFEST
cat > "$work/Consumer/Sources/Consumer/main.swift" <<'SOURCE'
import SNNKit

// A library call from each end of the pipeline: settings are checked, a tensor is built.
let settings = SimulationSettings(timeSteps: 8, checkpoints: [4, 8])
try settings.validate()
let x = Tensor(shape: [1, 2], storage: [1, 2])
print("SNNKit \(SNNKitVersion.current) as a dependency: T = \(settings.timeSteps), tensor \(x.shape)")
SOURCE

cd "$work/Consumer"
swift build
"$(swift build --show-bin-path)/Consumer"
echo "consumer package: ok"
