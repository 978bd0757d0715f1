#!/usr/bin/env bash
# Regenerates Sources/ONNX/Generated/onnx-subset.pb.swift from Sources/ONNX/onnx-subset.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from swift-protobuf 1.39.0:
#   git clone --branch 1.39.0 https://github.com/apple/swift-protobuf && cd swift-protobuf &&
#   swift build -c release --product protoc-gen-swift
# then pass its path as PROTOC_GEN_SWIFT=/path/to/.build/release/protoc-gen-swift.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
[ -x "$plugin" ] || { echo "protoc-gen-swift not found: set PROTOC_GEN_SWIFT" >&2; exit 1; }
mkdir -p Sources/ONNX/Generated
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public \
  --proto_path=Sources/ONNX \
  --swift_out=Sources/ONNX/Generated \
  Sources/ONNX/onnx-subset.proto
echo "wrote Sources/ONNX/Generated/onnx-subset.pb.swift"
