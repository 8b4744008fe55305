#!/usr/bin/env bash
# Times Cari's crawl of the Python documentation (Debian's python3.11-doc,
# served on loopback by the benchmark) beside wget -r and a bare Go fetch loop
# of the same pages from the same server in the same run, REPS times, and
# prints the medians: pages/s of each and the Cari/wget and Cari/loop ratios.
# Three settings: the default cari crawl (with the embedding model in models/
# when it is there), keyword-only (--embedder none), and every answer delayed
# 20 ms as a remote server's round trip would be.
# usage: scripts/bench-crawl.sh        (REPS=5 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-5}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/cari.test" ./cmd/cari
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
metric() { grep -o "[0-9.e+-]* $1" | awk '{print $1}'; }
run() { # name, then environment settings
  local name=$1; shift
  : >"$tmp/$name"
  for _ in $(seq "$REPS"); do
    env "$@" "$tmp/cari.test" -test.run XXX -test.bench CrawlPythonDocs -test.benchtime 1x | grep Benchmark >>"$tmp/$name"
  done
  printf '%-10s cari %6.1f pages/s   wget -r %6.1f   go loop %8.1f   cari/wget %.3f   cari/loop %.4f\n' "$name" \
    "$(metric cari_pages/s <"$tmp/$name" | median)" "$(metric wget_pages/s <"$tmp/$name" | median)" \
    "$(metric goloop_pages/s <"$tmp/$name" | median)" "$(metric cari/wget <"$tmp/$name" | median)" \
    "$(metric cari/goloop <"$tmp/$name" | median)"
}
run default CARI_CRAWL_ARGS=
run keyword "CARI_CRAWL_ARGS=--embedder none"
run latency20 CARI_BENCH_LATENCY=20ms
