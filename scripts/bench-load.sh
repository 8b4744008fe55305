#!/usr/bin/env bash
# Load test (docs/RELIABILITY.md): 64 concurrent gRPC clients search SciFact
# for 60 s against cari serve with its default limits (the per-client rate
# limit off, since all clients share one address); every request must
# succeed. The server's RSS is read before and after. Then the same load
# against a server allowed 2 running and 2 queued requests: the excess must
# be shed with RESOURCE_EXHAUSTED, nothing else may fail, and RSS stays flat.
# usage: scripts/bench-load.sh   (CLIENTS, DURATION, SHED_DURATION, LOAD_DATA override)
set -euo pipefail
cd "$(dirname "$0")/.."
S=${SHARED:-../shared}/datasets
CORPUS=${CORPUS:-$S/scifact/corpus.jsonl.gz}
QUERIES=${QUERIES:-$S/scifact/queries.jsonl}
CLIENTS=${CLIENTS:-64}
DURATION=${DURATION:-60s}
SHED_DURATION=${SHED_DURATION:-15s}
DATA=${LOAD_DATA:-/tmp/cari-load-scifact}
ADDR=127.0.0.1:7790
go build -o bin/cari ./cmd/cari
go build -o bin/cari-load ./test/load
[ -f "$DATA/CURRENT" ] || ./bin/cari index --data "$DATA" --corpus "$CORPUS" --log-level warn
rss() { awk '/^VmRSS/ {print $2/1024 " MiB"}' "/proc/$1/status"; }
serve() {
  ./bin/cari serve --data "$DATA" --grpc-addr "$ADDR" --http-addr 127.0.0.1:7791 --log-level warn --limit-rate 0 "$@" &
  pid=$!
}
stop() { kill "$pid"; wait "$pid" || true; }
trap 'kill $pid 2>/dev/null || true' EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); corpus $CORPUS"
serve
./bin/cari-load -addr "$ADDR" -queries "$QUERIES" -clients 4 -duration 3s >/dev/null   # warm up
echo "held load: rss before $(rss $pid)"
./bin/cari-load -addr "$ADDR" -queries "$QUERIES" -clients "$CLIENTS" -duration "$DURATION"
echo "held load: rss after $(rss $pid)"
stop

serve --limit-concurrency 2 --limit-queue 2 --limit-queue-wait 50ms
./bin/cari-load -addr "$ADDR" -queries "$QUERIES" -clients 2 -duration 2s >/dev/null
echo "overload: rss before $(rss $pid)"
./bin/cari-load -addr "$ADDR" -queries "$QUERIES" -clients "$CLIENTS" -duration "$SHED_DURATION" -expect-shed
echo "overload: rss after $(rss $pid)"
stop
