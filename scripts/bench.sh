#!/usr/bin/env bash
# Cari beside its peers on growing corpora, in one run (docs/BENCHMARKS.md):
# for each corpus, cari bench builds the index (indexing throughput with and
# without embeddings, disk, memory) and times keyword, vector, hybrid and
# hybrid+rerank searches; scripts/bench_peers.py times SQLite FTS5 and Xapian
# (BM25) on the same documents and FAISS flat and HNSW on the very vectors
# Cari indexed, with the same queries and top k. Cari and the peers alternate
# ROUNDS times on the same indexes, and the report quotes medians over the
# rounds and Cari/peer ratios taken within each round.
#
# usage: scripts/bench.sh [full|quick]     (make bench, make bench-quick)
#
#   full:  SciFact (5,183 docs), the Python docs (530 pages), and 100,000 and
#          1,000,000 generated passages (SciFact's term statistics)
#   quick: SciFact and 10,000 generated passages, 100 queries, 2 rounds (CI)
#
# Settings: BENCH_DIR (work and results, default /tmp/cari-bench), CORPORA,
# ROUNDS, REPS, MAXQ (queries), ROUNDS_100K, PEERS_100K, ROUNDS_1M, PEERS_1M,
# SHARED, LANGUAGE, and REUSE=1 to open the indexes a previous run left in
# BENCH_DIR instead of building them again (no indexing figures then).
#
# Every corpus is English, and Cari is told so (LANGUAGE=en, passed as
# cari bench --language, what a deployment in one language sets with
# cari index --language), as the peers, which detect no language, are:
# detecting each document's language would otherwise take about 40% of
# Cari's indexing CPU. LANGUAGE= (empty) times the build with detection.
#
# The peers come from Debian packages (python3-xapian, python3-faiss,
# python3-numpy, python3.11-doc for the Python docs), installed here when
# missing and running as root; otherwise that peer or corpus is skipped with
# a message.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-full}
S=${SHARED:-../shared}/datasets
BENCH_DIR=${BENCH_DIR:-/tmp/cari-bench}
PY=${PYTHON:-/usr/bin/python3}
PYDOCS=/usr/share/doc/python3.11/html
case $MODE in
full) CORPORA=${CORPORA:-"scifact pydocs gen100k gen1m"} ROUNDS=${ROUNDS:-3} REPS=${REPS:-3} MAXQ=${MAXQ:-300} ;;
quick) CORPORA=${CORPORA:-"scifact gen10k"} ROUNDS=${ROUNDS:-2} REPS=${REPS:-2} MAXQ=${MAXQ:-100} ;;
*) echo "usage: $0 [full|quick]" >&2; exit 2 ;;
esac
LANGUAGE=${LANGUAGE-en}
RESULTS=$BENCH_DIR/results
say() { echo "bench: $*" >&2; }

# install_peers installs the Debian packages of the peers that are missing.
install_peers() {
	local want=()
	"$PY" -c 'import xapian' 2>/dev/null || want+=(python3-xapian)
	"$PY" -c 'import faiss, numpy' 2>/dev/null || want+=(python3-faiss python3-numpy)
	case " $CORPORA " in *" pydocs "*) [ -d "$PYDOCS" ] || want+=(python3.11-doc) ;; esac
	[ ${#want[@]} -eq 0 ] && return
	if [ "$(id -u)" != 0 ]; then
		say "not root, so not installing ${want[*]}: those peers (or the Python docs corpus) are skipped"
		return
	fi
	say "installing ${want[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq "${want[@]}" >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq "${want[@]}" >/dev/null; } ||
		say "could not install ${want[*]}: those peers are skipped"
}

# corpus NAME sets CORPUS and QUERIES, preparing the files; false to skip.
corpus() {
	local scifact=$S/scifact/corpus.jsonl.gz
	QUERIES=$S/scifact/queries.jsonl
	case $1 in
	scifact) CORPUS=$scifact ;;
	pydocs)
		[ -d "$PYDOCS" ] || { say "no $PYDOCS (python3.11-doc): the Python docs corpus is skipped"; return 1; }
		CORPUS=$BENCH_DIR/pydocs/corpus.jsonl QUERIES=$BENCH_DIR/pydocs/queries.jsonl
		[ -f "$CORPUS" ] || "$PY" scripts/bench_pydocs.py "$PYDOCS" "$BENCH_DIR/pydocs" >&2
		return 0 ;;
	gen*)
		local n=${1#gen}
		n=${n/k/000}
		n=${n/m/000000}
		CORPUS=$BENCH_DIR/$1/corpus.jsonl
		[ -f "$scifact" ] && [ ! -f "$CORPUS" ] && {
			mkdir -p "$BENCH_DIR/$1"
			bin/cari bench generate --from "$scifact" --docs "$n" --out "$CORPUS" >&2
		} ;;
	*) say "unknown corpus $1"; return 1 ;;
	esac
	[ -f "$scifact" ] || { say "no $scifact (../shared/datasets): corpus $1 is skipped"; return 1; }
}

# settings NAME sets the rounds, queries, warm-up, repetitions, peers and
# whether to time a keyword-only build too, per corpus. The generated corpora
# share the first 100 queries, so that growth compares like with like; the 1M
# passages get one round, no keyword-only build, and the peers whose builds
# alone would take over ten minutes there (Xapian, FAISS HNSW) sit it out.
settings() {
	R=$ROUNDS Q=$MAXQ W=50 N=$REPS P=fts5,xapian,faiss-flat,faiss-hnsw KW=true
	case $1 in
	gen100k) R=${ROUNDS_100K:-$((ROUNDS < 2 ? ROUNDS : 2))} Q=$((MAXQ < 100 ? MAXQ : 100)) P=${PEERS_100K:-$P} ;;
	gen1m) R=${ROUNDS_1M:-1} Q=$((MAXQ < 100 ? MAXQ : 100)) W=10 N=2 P=${PEERS_1M:-fts5,faiss-flat} KW=false ;;
	esac
}

install_peers
go build -o bin/cari ./cmd/cari
[ -f models/glove-6b-100d.cvec ] || say "no models/glove-6b-100d.cvec (make models): keyword figures only"
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.json "$RESULTS"/*.jsonl
{ echo "mode=$MODE corpora=$CORPORA rounds=$ROUNDS reps=$REPS language=${LANGUAGE:-detected}"; echo "cores=$(nproc) memory=$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo)GiB go=$(go env GOVERSION)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"; echo "start=$(date -u +%FT%TZ) load=$(cut -d' ' -f1-3 /proc/loadavg)"; } >"$RESULTS/machine.txt"
start=$(date +%s)
for name in $CORPORA; do
	corpus "$name" || continue
	settings "$name"
	dir=$BENCH_DIR/$name
	[ "${REUSE:-0}" = 1 ] || rm -rf "$dir/data" "$dir/peers" "$dir/vectors.ann" "$dir/vectors.ann.ids"
	for round in $(seq "$R"); do
		say "$name round $round of $R ($(($(date +%s) - start)) s so far, load $(cut -d' ' -f1 /proc/loadavg))"
		kw=false
		[ "$round" = 1 ] && kw=$KW
		bin/cari bench --log-level warn --data "$dir/data" --corpus "$CORPUS" --queries "$QUERIES" --max-queries "$Q" \
			--warmup "$W" --ann "$dir/vectors.ann" --reps "$N" --keyword-index=$kw --language "$LANGUAGE" --json >"$RESULTS/$name.cari.$round.json"
		ann=()
		[ -f "$dir/vectors.ann" ] && ann=(--ann "$dir/vectors.ann")
		"$PY" scripts/bench_peers.py --corpus "$CORPUS" --queries "$QUERIES" --max-queries "$Q" "${ann[@]}" \
			--warmup "$W" --workdir "$dir/peers" --reps "$N" --peers "$P" >"$RESULTS/$name.peers.$round.jsonl"
	done
done
echo "end=$(date -u +%FT%TZ) load=$(cut -d' ' -f1-3 /proc/loadavg) seconds=$(($(date +%s) - start))" >>"$RESULTS/machine.txt"
"$PY" scripts/bench_report.py "$RESULTS" $CORPORA | tee "$RESULTS/report.md"
