#!/usr/bin/env bash
# gen.sh regenerates the Go code for Cari's API (proto/cari/v1/*.pb.go)
# from proto/cari/v1/*.proto. Run it through `go generate ./...` from the
# repository root, or directly from anywhere.
#
# Output is reproducible byte for byte because every generator is pinned:
#   - protoc from Debian 12's protobuf-compiler package (3.21.12); the
#     well-known types (google/protobuf/*.proto) come from libprotobuf-dev;
#   - protoc-gen-go and protoc-gen-go-grpc at the versions go.mod pins
#     with `tool` directives, built here from the module cache.
set -euo pipefail

readonly want_protoc="libprotoc 3.21.12"
readonly apt_hint="on Debian 12 install it with: apt-get install -y protobuf-compiler libprotobuf-dev"
readonly include=/usr/include

die() {
	echo "proto/gen.sh: $*" >&2
	exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v protoc >/dev/null || die "protoc not found; $apt_hint"
got="$(protoc --version)"
[[ "$got" == "$want_protoc" ]] ||
	die "protoc is \"$got\", want \"$want_protoc\" so generated code stays byte-identical; $apt_hint"
[[ -f "$include/google/protobuf/timestamp.proto" ]] ||
	die "well-known types missing from $include/google/protobuf; $apt_hint"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# go.mod's tool directives pin these; building by package path uses the
# pinned versions.
go build -o "$tmp/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$tmp/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc

# Remove earlier output so a deleted .proto leaves no stale Go file.
rm -f proto/cari/v1/*.pb.go

protoc \
	--proto_path=proto \
	--proto_path="$include" \
	--plugin=protoc-gen-go="$tmp/protoc-gen-go" \
	--plugin=protoc-gen-go-grpc="$tmp/protoc-gen-go-grpc" \
	--go_out=proto --go_opt=paths=source_relative \
	--go-grpc_out=proto --go-grpc_opt=paths=source_relative \
	proto/cari/v1/*.proto
