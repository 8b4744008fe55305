#!/usr/bin/env bash
# Times Cari's keyword path on a BEIR collection beside SQLite FTS5 in the same
# run: indexing (docs/s) and single-thread querying (queries/s, top-100), each
# repeated REPS times; prints the medians and the Cari/FTS5 ratios.
# usage: scripts/bench-keyword.sh [CORPUS] [QUERIES] [QRELS]
set -euo pipefail
cd "$(dirname "$0")/.."
S=${SHARED:-../shared}/datasets
CORPUS=${1:-$S/scifact/corpus.jsonl.gz}
QUERIES=${2:-$S/scifact/queries.jsonl}
QRELS=${3:-$S/scifact/qrels.tsv}
REPS=${REPS:-5}
PY=${PYTHON:-/usr/bin/python3}
go build -o bin/cari ./cmd/cari
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for i in $(seq "$REPS"); do
  rm -rf "$tmp/data"
  s=$(date +%s.%N)
  ./bin/cari index --data "$tmp/data" --corpus "$CORPUS" --log-level warn >/dev/null
  e=$(date +%s.%N)
  echo "$s $e" | awk '{print $2-$1}' >>"$tmp/cari_index"
  ./bin/cari eval --data "$tmp/data" --queries "$QUERIES" --qrels "$QRELS" --workers 1 --json --log-level warn \
    | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["queries_per_second"])' >>"$tmp/cari_qps"
  "$PY" scripts/fts5_bench.py "$CORPUS" "$QUERIES" >"$tmp/fts5.json"
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["index_seconds"]); print(d["queries"]/d["query_seconds"], file=sys.stderr)' \
    "$tmp/fts5.json" >>"$tmp/fts5_index" 2>>"$tmp/fts5_qps"
done
docs=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["docs"])' "$tmp/fts5.json")
ci=$(median <"$tmp/cari_index"); cq=$(median <"$tmp/cari_qps")
fi=$(median <"$tmp/fts5_index"); fq=$(median <"$tmp/fts5_qps")
echo "corpus=$CORPUS docs=$docs reps=$REPS cores=$(nproc)"
awk -v d="$docs" -v ci="$ci" -v fi="$fi" -v cq="$cq" -v fq="$fq" 'BEGIN {
  printf "index   cari %.2fs (%.0f docs/s, whole process)   fts5 %.2fs (%.0f docs/s, in memory)   cari/fts5 time %.2f\n", ci, d/ci, fi, d/fi, ci/fi
  printf "query   cari %.0f q/s   fts5 %.0f q/s   (1 thread, top 100)   cari/fts5 throughput %.2f\n", cq, fq, cq/fq }'
