#!/usr/bin/env bash
# gen.sh regenerates the Go code for Cari's API (proto/cari/v1/*.pb.go),
# its HTTP/JSON gateway (*.pb.gw.go) and its OpenAPI document
# (cari.swagger.json) from proto/cari/v1/*.proto, with the HTTP mapping in
# proto/cari/v1/cari_http.yaml and the OpenAPI options in
# proto/cari/v1/cari_openapi.yaml. Run it through `go generate ./...` from
# the repository root, or directly from anywhere.
#
# Output is reproducible byte for byte because every generator is pinned:
#   - protoc from Debian 12's protobuf-compiler package (3.21.12); the
#     well-known types (google/protobuf/*.proto) come from libprotobuf-dev;
#   - protoc-gen-go, protoc-gen-go-grpc, protoc-gen-grpc-gateway and
#     protoc-gen-openapiv2 at the versions go.mod pins with `tool`
#     directives, built here from the module cache.
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
go build -o "$tmp/protoc-gen-grpc-gateway" github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway
go build -o "$tmp/protoc-gen-openapiv2" github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2

# Remove earlier output so a deleted .proto leaves no stale Go file.
rm -f proto/cari/v1/*.pb.go proto/cari/v1/*.pb.gw.go proto/cari/v1/cari.swagger.json

protoc \
	--proto_path=proto \
	--proto_path="$include" \
	--plugin=protoc-gen-go="$tmp/protoc-gen-go" \
	--plugin=protoc-gen-go-grpc="$tmp/protoc-gen-go-grpc" \
	--go_out=proto --go_opt=paths=source_relative \
	--go-grpc_out=proto --go-grpc_opt=paths=source_relative \
	proto/cari/v1/*.proto

# The gateway and the OpenAPI document read the HTTP mapping from YAML, so
# the .proto files need no google.api.http annotations. One merged
# OpenAPI document covers both services.
protoc \
	--proto_path=proto \
	--proto_path="$include" \
	--plugin=protoc-gen-grpc-gateway="$tmp/protoc-gen-grpc-gateway" \
	--plugin=protoc-gen-openapiv2="$tmp/protoc-gen-openapiv2" \
	--grpc-gateway_out=proto \
	--grpc-gateway_opt=paths=source_relative,grpc_api_configuration=proto/cari/v1/cari_http.yaml \
	--openapiv2_out=proto/cari/v1 \
	--openapiv2_opt=grpc_api_configuration=proto/cari/v1/cari_http.yaml,openapi_configuration=proto/cari/v1/cari_openapi.yaml \
	--openapiv2_opt=allow_merge=true,merge_file_name=cari,preserve_rpc_order=true,disable_service_tags=false \
	proto/cari/v1/*.proto
