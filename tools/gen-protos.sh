#!/usr/bin/env bash
# gen-protos.sh PROTOC_GEN_SWIFT: regenerates Sources/BuildKitSession/Generated from Sources/BuildKitSession/Protos.
# The output is committed, so builds need neither protoc nor the plugin. protoc: Debian's protobuf-compiler (it
# brings google/protobuf/timestamp.proto). The plugin: `swift build --product protoc-gen-swift` in a checkout of
# apple/swift-protobuf at the version Package.swift names, outside this repository.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plugin="${1:?usage: gen-protos.sh PATH/TO/protoc-gen-swift}"
cd "$here/Sources/BuildKitSession/Protos"
rm -f ../Generated/*.pb.swift
protoc --plugin=protoc-gen-swift="$plugin" --swift_out=../Generated --swift_opt=Visibility=Internal \
    -I . -I /usr/include ./*.proto
