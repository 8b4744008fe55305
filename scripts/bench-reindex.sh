#!/usr/bin/env bash
# Full rebuilds of SciFact (5,183 documents) with the static model, interleaved so that the
# noise of a shared machine hits every variant alike:
#   index        cari index into a fresh data directory (the baseline)
#   corpus       cari reindex --corpus: a new generation from the corpus file, no cache
#   stored-cold  cari reindex --stored --embed-cache with an empty embedding cache
#   stored-warm  cari reindex --stored --embed-cache with every passage cached
# Prints each run's records/s and the medians. Usage: scripts/bench-reindex.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-3}
CORPUS=${CORPUS:-../shared/datasets/scifact/corpus.jsonl.gz}
MODELS=${MODELS:-models}
# Build the tree's cari unless BIN names a binary: a bin/cari left from an
# older build would be measured instead.
if [ -z "${BIN:-}" ]; then BIN=bin/cari; go build -o "$BIN" ./cmd/cari; fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rate() { sed -n 's/.*(\([0-9.]*\) \(docs\|records\)\/s).*/\1/p' | head -1; }
declare -A runs
for i in $(seq "$REPS"); do
  rm -rf "$TMP/fresh"
  runs[index]+=" $("$BIN" index --data "$TMP/fresh" --corpus "$CORPUS" --models "$MODELS" --log-level warn | rate)"
  [ -d "$TMP/data" ] || "$BIN" index --data "$TMP/data" --corpus "$CORPUS" --models "$MODELS" --log-level warn >/dev/null
  runs[corpus]+=" $("$BIN" reindex --data "$TMP/data" --corpus "$CORPUS" --models "$MODELS" --keep 0 --log-level warn | rate)"
  rm -rf "$TMP/data/embcache"
  runs[stored-cold]+=" $("$BIN" reindex --data "$TMP/data" --stored --embed-cache --models "$MODELS" --keep 0 --log-level warn | rate)"
  runs[stored-warm]+=" $("$BIN" reindex --data "$TMP/data" --stored --embed-cache --models "$MODELS" --keep 0 --log-level warn | rate)"
done
for k in index corpus stored-cold stored-warm; do
  median=$(tr ' ' '\n' <<<"${runs[$k]}" | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$k: median $median docs/s (runs:${runs[$k]})"
done
