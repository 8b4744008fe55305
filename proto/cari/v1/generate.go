// Package cariv1 holds the Go code generated from Cari's gRPC API, package
// cari.v1: SearchService (search, find-similar, get-contents) and
// IndexService (upsert, delete, crawl, reindex, stats). The .proto files
// beside this file are the contract; run `go generate ./...` from the
// repository root after changing them (see proto/gen.sh for what it needs).
package cariv1

//go:generate bash ../../gen.sh
